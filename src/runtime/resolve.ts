/**
 * Run-time rendering of handler parameters: `${{ service.* }}` from the service, `${env:NAME}` from the
 * environment. Values land in argv elements or JSON fields only (never a shell string). Every env value
 * used is registered with the redactor, so it can never reach an output.
 */
import { renderDeep } from "../config/template.js";
import type { ServiceConfig } from "../config/model.js";
import type { Redactor } from "./redact.js";

export interface ResolveContext {
  readonly service?: ServiceConfig;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly redactor: Redactor;
}

export interface Resolved<T> {
  readonly value: T;
  /** `${env:NAME}` references whose variable is unset. */
  readonly missingEnv: readonly string[];
}

function serviceField(service: ServiceConfig | undefined, path: readonly string[]): unknown {
  if (service === undefined || path.length !== 2) return undefined;
  switch (path[1]) {
    case "id":
      return service.id;
    case "title":
      return service.title;
    case "description":
      return service.description;
    default:
      return undefined;
  }
}

/**
 * Frozen parameters (the rules' own, after load) that hold no reference render to an equal copy: they are
 * handed over as they are. A tick resolves every service's probe parameters, and looking is much cheaper
 * than copying.
 */
function withoutRefs(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.isFrozen(value) && !mayHoldRef(value, 0);
}

/** False only when no string inside (key or value) could hold a reference; unusual shapes say true. */
function mayHoldRef(value: unknown, depth: number): boolean {
  if (typeof value === "string") return value.includes("${");
  if (typeof value !== "object" || value === null) return false;
  if (depth > 32) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (mayHoldRef(item, depth + 1)) return true;
    return false;
  }
  // renderDeep leaves other objects (not plain data) as they are: let it decide.
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return true;
  const record = value as Record<string, unknown>;
  for (const key in record)
    if (Object.hasOwn(record, key) && (key.includes("${") || mayHoldRef(record[key], depth + 1))) return true;
  return false;
}

export function resolveParams<T>(value: T, ctx: ResolveContext): Resolved<T> {
  if (withoutRefs(value)) return { value, missingEnv: [] };
  const missingEnv: string[] = [];
  const rendered = renderDeep(value, (ref) => {
    if (ref.kind === "env") {
      const found = ctx.env[ref.name];
      // An empty variable is as good as unset: sending to "https://hooks/" would only fail later.
      if (found === undefined || found === "") {
        missingEnv.push(ref.name);
        return undefined;
      }
      ctx.redactor.add(found);
      return found;
    }
    if (ref.kind === "expr" && ref.path[0] === "service") return serviceField(ctx.service, ref.path);
    return undefined;
  });
  return { value: rendered as T, missingEnv };
}
