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

export function resolveParams<T>(value: T, ctx: ResolveContext): Resolved<T> {
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
