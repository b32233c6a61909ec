/**
 * The template mini-language of rules files. Two forms, nothing else:
 *
 *   ${{ params.label }}   a dotted path (identifiers only) read through a caller-supplied lookup
 *   ${env:NAME}           an environment variable, NAME = [A-Z_][A-Z0-9_]*
 *
 * Data only: there are no operators, calls or filters, so rendering can never execute anything, and what
 * each root means (params, service, facts) is decided by the caller's lookup.
 */

export interface ExprRef {
  readonly kind: "expr";
  /** Dotted path split into identifiers, e.g. ["params", "label"]. */
  readonly path: readonly string[];
  /** Offsets in the text: `text.slice(start, end)` is the whole reference. */
  readonly start: number;
  readonly end: number;
}

export interface EnvRef {
  readonly kind: "env";
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** A reference that cannot be read (unterminated, empty, not a dotted path, bad env name). */
export interface TemplateErrorRef {
  readonly kind: "error";
  readonly message: string;
  readonly start: number;
  readonly end: number;
}

export type TemplateRef = ExprRef | EnvRef | TemplateErrorRef;
/** What a lookup receives; returning undefined leaves the reference text unchanged. */
export type ValueRef = ExprRef | EnvRef;
export type Lookup = (ref: ValueRef) => unknown;
/** Path from the walked root to a string: object keys and array indexes. */
export type PointerSegments = readonly (string | number)[];

const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** Every reference in `text`, in order. Text that only looks similar (`${HOME}`, `$x`) is not a reference. */
export function findRefs(text: string): TemplateRef[] {
  const refs: TemplateRef[] = [];
  let from = 0;
  for (let at = text.indexOf("${", from); at !== -1; at = text.indexOf("${", from)) {
    if (text.startsWith("${{", at)) {
      const close = text.indexOf("}}", at + 3);
      if (close === -1) {
        refs.push({ kind: "error", message: "unterminated ${{ (missing }})", start: at, end: text.length });
        break;
      }
      const end = close + 2;
      refs.push(exprRef(text.slice(at + 3, close).trim(), at, end));
      from = end;
    } else if (text.startsWith("${env:", at)) {
      const close = text.indexOf("}", at + 6);
      if (close === -1) {
        refs.push({ kind: "error", message: "unterminated ${env: (missing })", start: at, end: text.length });
        break;
      }
      const name = text.slice(at + 6, close);
      const end = close + 1;
      refs.push(
        ENV_NAME.test(name)
          ? { kind: "env", name, start: at, end }
          : {
              kind: "error",
              message: `invalid environment variable name "${name}" (use A-Z, 0-9 and _)`,
              start: at,
              end,
            },
      );
      from = end;
    } else {
      from = at + 2;
    }
  }
  return refs;
}

function exprRef(inner: string, start: number, end: number): TemplateRef {
  if (inner.length === 0) return { kind: "error", message: "empty ${{ }}", start, end };
  if (!PATH.test(inner)) {
    return {
      kind: "error",
      message: `"${inner}" is not a dotted path (only references like params.label are allowed)`,
      start,
      end,
    };
  }
  return { kind: "expr", path: inner.split("."), start, end };
}

/** Calls `visit` for every string inside nested objects and arrays (not for object keys). */
export function walkStrings(value: unknown, visit: (text: string, pointer: PointerSegments) => void): void {
  const walk = (node: unknown, pointer: (string | number)[]): void => {
    if (typeof node === "string") {
      visit(node, pointer);
    } else if (Array.isArray(node)) {
      node.forEach((item, index) => walk(item, [...pointer, index]));
    } else if (isPlainObject(node)) {
      for (const [key, item] of Object.entries(node)) walk(item, [...pointer, key]);
    }
  };
  walk(value, []);
}

/**
 * Renders one string. A string that is exactly one reference yields the referenced value with its own
 * type (`port: "${{ params.port }}"` stays a number); otherwise values are stringified into the text.
 * References the lookup does not know (undefined) and malformed ones are left as written.
 */
export function renderString(text: string, lookup: Lookup): unknown {
  const refs = findRefs(text);
  if (refs.length === 0) return text;
  const only = refs[0];
  if (
    refs.length === 1 &&
    only !== undefined &&
    only.start === 0 &&
    only.end === text.length &&
    only.kind !== "error"
  ) {
    const value = lookup(only);
    return value === undefined ? text : value;
  }
  let out = "";
  let last = 0;
  for (const ref of refs) {
    const value = ref.kind === "error" ? undefined : lookup(ref);
    out +=
      text.slice(last, ref.start) + (value === undefined ? text.slice(ref.start, ref.end) : stringify(value));
    last = ref.end;
  }
  return out + text.slice(last);
}

/** A copy of `value` with every string rendered; the input is not modified. */
export function renderDeep(value: unknown, lookup: Lookup): unknown {
  if (typeof value === "string") return renderString(value, lookup);
  if (Array.isArray(value)) return value.map((item) => renderDeep(item, lookup));
  if (isPlainObject(value)) {
    // fromEntries defines properties, so even a "__proto__" key stays plain data.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderDeep(item, lookup)]));
  }
  return value;
}

function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
