/**
 * Diagnostics: what `upkeep validate` reports. Codes are contract (users grep for them, CI annotations
 * carry them as titles): add new ones, never rename.
 */

/** Every diagnostic code with a one-line meaning (the README's table is generated from this). */
export const DIAGNOSTIC_CODES = {
  "rules-not-found": "the rules directory or its services.yaml does not exist or cannot be read",
  "yaml-syntax": "the file is not valid YAML",
  "yaml-warning": "YAML the parser accepted with a warning (e.g. an unknown tag)",
  "alias-limit": "too many YAML alias expansions (an alias bomb): rules need no more than a few aliases",
  "forbidden-key": "`__proto__`, `constructor` and `prototype` cannot be used as keys",
  "duplicate-key": "the same key appears twice in one mapping",
  "duplicate-id": "two services, recipes, channels, levels or rules share an id",
  "unknown-key": "a key the schema does not define (often a typo)",
  "missing-key": "a required key is absent",
  "invalid-type": "a value has the wrong type (e.g. a list where a mapping is expected)",
  "invalid-value": "a value is not one of the allowed values or does not have the required form",
  "invalid-duration": "not a duration like 500ms, 2s, 5m, 1h or 1h30m",
  "out-of-range": "a number is outside its allowed range",
  "port-range": "a port is not between 1 and 65535",
  "unknown-probe": "a probe `type` no probe handler provides",
  "unknown-action": "a step `action` no step handler provides",
  "unknown-channel-type": "a channel `type` no channel handler provides",
  "unknown-recipe": "a heal refers to a recipe that is not defined",
  "unknown-level": "an alert rule or silence refers to a level that is not defined",
  "unknown-channel": "a level refers to a channel that is not defined",
  "unknown-service": "`dependsOn`, an alert rule or a silence refers to a service id that is not defined",
  "dependency-cycle": "services depend on each other in a loop",
  "invalid-logic": "a json-logic expression is malformed (e.g. an object with more than one key)",
  "unknown-operator": "a json-logic operator that is not allowed",
  "unsafe-var-path": "a json-logic `var` path uses __proto__, constructor or prototype",
  "unknown-fact": "a json-logic `var` reads a fact that does not exist",
  "template-syntax": "a malformed `${{ ... }}` or `${env:...}` template",
  "unknown-template-root": "a template reads something that is not available where it is used",
  "unknown-param": "a template reads a recipe parameter the recipe does not declare",
  "missing-param": "a service does not pass a parameter its recipe requires",
  "unknown-arg": "a service passes a parameter its recipe does not declare",
  "env-file": "runtime.envFile cannot be read or is readable by other users, so its values are not used",
  "env-unset": "`${env:NAME}` refers to an environment variable that is not set",
  "missing-verify": "heal steps that do not end with `verify`, so a heal is never confirmed",
  "deprecated-key": "a key that no longer has an effect (the message says what replaced it)",
  "breaker-never-holds":
    "after giving up, the breaker's longest wait is shorter than runtime.interval, so it never holds a heal back",
  "cooldown-races-interval":
    "a cooldown just above a multiple of runtime.interval: whether a tick may heal depends on scheduler jitter",
  "budget-never-binds":
    "the cooldown alone allows no more heals per window than the budget, so the budget never acts",
  "launchd-throttle":
    "runtime.interval is under launchd's 10 s ThrottleInterval (warned on macOS, or when the rules use launchd handlers)",
  "invalid-pattern":
    "a probe's bodyMatches or stdoutMatches is not a valid JavaScript regular expression (the probe could never pass)",
  "backtracking-pattern":
    "a probe pattern that can take exponential time on a backtracking engine (e.g. `(a+)+`); the probe timeout bounds it",
  "plugin-load": "a plugin named in runtime.plugins cannot be found, loaded or registered",
  "pack-not-found":
    "a pack named in `packs:` cannot be found (no pack.yaml in the folder, npm package not installed)",
  "pack-incompatible":
    "a pack does not support this upkeep version, or the installed npm package is outside the range",
  "pack-param":
    "a pack entry's `with:` does not match the pack's params schema (or a param it reads has no value)",
  "pack-content":
    "a pack file sets something packs cannot contribute (runtime, plugins, defaults, channels, levels)",
  "pack-capability":
    "a pack step or probe uses a handler with local side effects its pack.yaml does not declare",
  "pack-untrusted": "a pack declares capabilities the rules have not granted with `trust:` on its entry",
  "pack-shadow": "a local rule has the id of a pack rule (change pack rules with `overrides:` instead)",
  "unknown-override": "`overrides:` names an id no pack provides",
  "pack-lock":
    "a pack differs from rules.lock or is missing from it (an error with validate --frozen-lockfile)",
} as const satisfies Record<string, string>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;
export type Severity = "error" | "warning";

/** DESIGN.md contract (`validate --format json`). */
export interface Diagnostic {
  readonly severity: Severity;
  readonly code: DiagnosticCode;
  readonly message: string;
  /** As the user typed it (relative to the cwd) or absolute. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** JSON pointer into the file's document ("" = the whole document). */
  readonly pointer: string;
  readonly hint?: string;
}

/** A problem found before it has a file position (logic, semantic checks). */
export interface Finding {
  readonly pointer: string;
  readonly code: DiagnosticCode;
  readonly message: string;
  readonly hint?: string;
  readonly severity?: Severity;
  /** Point at the key rather than the value at `pointer`. */
  readonly atKey?: boolean;
}

/** One did-you-mean helper for the whole code base (src/config/suggest.ts); re-exported for old callers. */
export { closest, didYouMean } from "./suggest.js";

/** Collects diagnostics, dropping exact repeats (same file, position, pointer, code and message). */
export class DiagnosticCollector {
  readonly #seen = new Set<string>();
  readonly #items: Diagnostic[] = [];

  add(diagnostic: Diagnostic): void {
    // The position is part of the key: syntax errors all have the pointer "", and two services with
    // the same indentation mistake say the same words on different lines.
    const key = `${diagnostic.file}\0${diagnostic.line}:${diagnostic.column}\0${diagnostic.pointer}\0${diagnostic.code}\0${diagnostic.message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#items.push(diagnostic);
  }

  addAll(diagnostics: Iterable<Diagnostic>): void {
    for (const d of diagnostics) this.add(d);
  }

  get hasErrors(): boolean {
    return this.#items.some((d) => d.severity === "error");
  }

  /** Sorted by file, line, column (stable for equal positions). */
  sorted(): Diagnostic[] {
    return [...this.#items].sort(compareDiagnostics);
  }
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** JSON pointer helpers (RFC 6901). */
export function escapeSegment(segment: string | number): string {
  return String(segment).replaceAll("~", "~0").replaceAll("/", "~1");
}

export function toPointer(segments: readonly (string | number)[]): string {
  return segments.length === 0 ? "" : `/${segments.map(escapeSegment).join("/")}`;
}

export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}
