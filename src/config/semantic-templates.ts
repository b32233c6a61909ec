/**
 * Template checks: `${{ root.path }}` must name something available where it is written (recipe params
 * only inside recipes, `service.*` in handler parameters, facts in alert messages), and `${env:NAME}`
 * must be set (a warning, or an error with --require-env, since CI rarely has the secrets).
 */
import { closest, didYouMean, type Finding, toPointer } from "./diagnostics.js";
import { checkFactPath, type FactFields } from "./fact-paths.js";
import { findRefs } from "./template.js";

/** `${{ service.* }}` fields resolved at run time (src/runtime/resolve.ts). */
export const SERVICE_FIELDS: readonly string[] = ["id", "title", "description"];

export interface TemplateScope {
  /** Roots `${{ }}` may start with here. */
  readonly roots: readonly string[];
  /** Names a recipe declares (only inside recipes). */
  readonly params?: readonly string[];
  /** When given, the whole path must name a fact (alert messages: `${{ heal.outcome }}`). */
  readonly facts?: FactFields;
  /** When given, `${{ service.X }}` must use one of these fields. */
  readonly serviceFields?: readonly string[];
  /** Whether `${env:NAME}` is rendered here. */
  readonly env: boolean;
  /** For messages: "in recipe steps", "in alert messages"... */
  readonly where: string;
}

export interface EnvCheck {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly requireEnv: boolean;
}

/** Findings for every string inside `value`, which sits at `at` in its document. */
export function checkTemplates(
  value: unknown,
  at: readonly (string | number)[],
  scope: TemplateScope,
  envCheck: EnvCheck,
  out: Finding[],
): void {
  forEachString(value, (text, inner) => {
    if (!text.includes("${")) return;
    const pointer = toPointer([...at, ...inner]);
    for (const ref of findRefs(text)) {
      if (ref.kind === "error") {
        out.push({ pointer, code: "template-syntax", message: ref.message });
      } else if (ref.kind === "env") {
        envFinding(ref.name, pointer, scope, envCheck, out);
      } else {
        exprFinding(ref.path, pointer, scope, out);
      }
    }
  });
}

function envFinding(
  name: string,
  pointer: string,
  scope: TemplateScope,
  envCheck: EnvCheck,
  out: Finding[],
): void {
  if (!scope.env) {
    out.push({
      pointer,
      code: "unknown-template-root",
      message: `\${env:${name}} is not available ${scope.where}`,
      hint: "environment variables are only read in handler parameters and runtime paths",
    });
    return;
  }
  const value = envCheck.env[name];
  if (value !== undefined && value !== "") return;
  out.push({
    pointer,
    code: "env-unset",
    severity: envCheck.requireEnv ? "error" : "warning",
    message: `environment variable ${name} is ${value === "" ? "empty" : "not set"}`,
    hint: envCheck.requireEnv
      ? `set ${name} in the environment upkeep runs in`
      : `set ${name} on the host that runs upkeep (validate --require-env makes this an error)`,
  });
}

function exprFinding(path: readonly string[], pointer: string, scope: TemplateScope, out: Finding[]): void {
  const [root = "", field] = path;
  if (!scope.roots.includes(root)) {
    const hint = didYouMean(closest(root, scope.roots));
    const available = scope.roots.length === 0 ? "nothing" : scope.roots.join(", ");
    out.push({
      pointer,
      code: "unknown-template-root",
      message: `\${{ ${path.join(".")} }}: "${root}" is not available ${scope.where} (available: ${available})`,
      ...(hint === undefined ? {} : { hint }),
    });
    return;
  }
  if (scope.facts !== undefined) {
    const problem = checkFactPath(scope.facts, path, closest);
    if (problem === undefined) return;
    const hint = didYouMean(problem.suggestion);
    out.push({
      pointer,
      code: "unknown-template-root",
      message: `\${{ ${path.join(".")} }}: "${problem.path}" is not available ${scope.where} (${problem.expected})`,
      ...(hint === undefined ? {} : { hint }),
    });
  } else if (root === "params") {
    const declared = scope.params ?? [];
    if (field === undefined) {
      out.push({ pointer, code: "template-syntax", message: "name a parameter: ${{ params.NAME }}" });
    } else if (!declared.includes(field)) {
      const hint = didYouMean(closest(field, declared));
      out.push({
        pointer,
        code: "unknown-param",
        message: `\${{ params.${field} }}: the recipe declares no parameter "${field}"${declared.length === 0 ? "" : ` (it has: ${declared.join(", ")})`}`,
        ...(hint === undefined
          ? { hint: `declare it under params: ${field}: { required: true }` }
          : { hint }),
      });
    }
  } else if (root === "service" && scope.serviceFields !== undefined) {
    const fields = scope.serviceFields;
    if (field !== undefined && fields.includes(field) && path.length === 2) return;
    const hint = field === undefined ? undefined : didYouMean(closest(field, fields));
    out.push({
      pointer,
      code: "unknown-template-root",
      message: `\${{ ${path.join(".")} }}: use one of ${fields.map((f) => `service.${f}`).join(", ")}`,
      ...(hint === undefined ? {} : { hint }),
    });
  }
}

/**
 * Calls `visit` for every string in nested objects and arrays with its path. The path array is reused
 * (copy it to keep it): 5,000 services mean hundreds of thousands of values, and allocation per node
 * was most of the cost.
 */
export function forEachString(
  value: unknown,
  visit: (text: string, path: readonly (string | number)[]) => void,
  path: (string | number)[] = [],
): void {
  if (typeof value === "string") {
    visit(value, path);
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      forEachString(value[i], visit, path);
      path.pop();
    }
  } else if (value !== null && typeof value === "object") {
    for (const key of Object.keys(value)) {
      path.push(key);
      forEachString((value as Record<string, unknown>)[key], visit, path);
      path.pop();
    }
  }
}

/** Whether any string inside `value` contains `needle`. */
export function anyStringIncludes(value: unknown, needle: string): boolean {
  let found = false;
  forEachString(value, (text) => {
    found ||= text.includes(needle);
  });
  return found;
}

/** Strings that contain a `${{ params.* }}` reference, with the params they use. */
export function paramsUsed(text: string): string[] {
  if (!text.includes("${{")) return [];
  const names: string[] = [];
  for (const ref of findRefs(text)) {
    if (ref.kind === "expr" && ref.path[0] === "params" && ref.path[1] !== undefined) names.push(ref.path[1]);
  }
  return names;
}
