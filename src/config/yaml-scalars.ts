/**
 * Plain scalars under the YAML 1.2 core schema, resolved the way `yaml` resolves them (the default
 * schema of src/config/load.ts: `yes` and `on` stay strings), for the fast path in yaml-fast.ts.
 */

// YAML 1.2 core schema, in the order `yaml` tries its tags (src: yaml/dist/schema/core).
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** A plain scalar's value under the core schema. */
export function resolvePlain(text: string): unknown {
  const c = text.charCodeAt(0);
  // The tags' patterns split by first character: most scalars need one test or none.
  switch (c) {
    case 126: // ~
      return text === "~" ? null : text;
    case 110: // n
    case 78: // N
      return NULL.test(text) ? null : text;
    case 116: // t
    case 84: // T
    case 102: // f
    case 70: // F
      return BOOL.test(text) ? c === 116 || c === 84 : text;
  }
  // Digits, +, - and . start the numbers.
  if (!((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return text;
  if (INT_OCT.test(text)) return parseInt(text.substring(2), 8);
  if (INT.test(text)) return parseInt(text, 10);
  if (INT_HEX.test(text)) return parseInt(text.substring(2), 16);
  if (FLOAT_NAN.test(text)) {
    if (text.slice(-3).toLowerCase() === "nan") return NaN;
    return c === 45 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (FLOAT_EXP.test(text) || FLOAT.test(text)) return parseFloat(text);
  return text;
}

/** A plain key as a JS object key, the way `yaml`'s toJS stringifies scalar keys. */
export function keyString(raw: string): string {
  const value = resolvePlain(raw);
  return value === null ? "" : String(value);
}
