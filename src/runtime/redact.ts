/**
 * Secrets are values read from the environment through `${env:NAME}` (and every value of
 * `runtime.envFile`). Redaction is a property of the process's boundaries, not of call sites: every
 * redactor also feeds one process-wide registry, and the boundaries (stdout/stderr of the CLI, state
 * and log files, the history store, child-process and HTTP replies turned into details, payloads handed
 * to channels) redact against it. A secret registered anywhere is therefore hidden everywhere.
 */
export interface Redactor {
  readonly secrets: ReadonlySet<string>;
  add(value: string): void;
}

/** Values shorter than this are not treated as secrets (redacting "1" would garble every line). */
const MIN_SECRET_LENGTH = 4;
export const REDACTED = "[REDACTED]";

const processSecrets = new Set<string>();
let sortedCache: readonly string[] | undefined;

function register(into: Set<string>, value: string): void {
  for (const form of secretForms(value)) {
    if (form.length < MIN_SECRET_LENGTH) continue;
    into.add(form);
    if (!processSecrets.has(form)) {
      processSecrets.add(form);
      sortedCache = undefined;
    }
  }
}

export function createRedactor(initial: Iterable<string> = []): Redactor {
  const secrets = new Set<string>();
  const redactor: Redactor = {
    secrets,
    add(value: string) {
      register(secrets, value);
    },
  };
  for (const value of initial) redactor.add(value);
  return redactor;
}

/** Registers a secret with the process-wide registry only (config-referenced values at load time). */
export function registerSecret(value: string): void {
  register(new Set(), value);
}

/** Every secret the process has seen, for the boundaries. */
export const processRedactor: Redactor = {
  get secrets(): ReadonlySet<string> {
    return processSecrets;
  },
  add: registerSecret,
};

/**
 * A secret can come back transformed: percent-encoded in a URL, base64 in a Basic auth header an
 * endpoint echoes, or (for a webhook URL) as just its path and query, which is where the token lives.
 */
function secretForms(value: string): string[] {
  const forms = [value, encodeURIComponent(value), encodeURI(value)];
  if (value.length >= 8) forms.push(Buffer.from(value, "utf8").toString("base64").replace(/=+$/, ""));
  if (/^https?:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      const tail = `${url.pathname}${url.search}`;
      // A bare "/" or a short path like "/h" is not secret; a token-bearing path is long.
      if (tail.length >= 8) forms.push(tail);
      for (const [, v] of url.searchParams) if (v.length >= 8) forms.push(v, encodeURIComponent(v));
      // A long path segment is a token (Discord and Slack webhook ids and keys), echoed on its own.
      for (const part of url.pathname.split("/")) if (part.length >= 16) forms.push(part);
      if (url.password.length >= MIN_SECRET_LENGTH)
        forms.push(decodeURIComponent(url.password), url.password);
    } catch {
      // Not a URL after all: the value itself is redacted.
    }
  }
  return [...new Set(forms)];
}

function sorted(secrets: ReadonlySet<string>): readonly string[] {
  if (secrets === processSecrets) {
    sortedCache ??= [...processSecrets].sort((a, b) => b.length - a.length);
    return sortedCache;
  }
  return [...secrets].sort((a, b) => b.length - a.length);
}

export function redactText(text: string, redactor: Redactor = processRedactor): string {
  if (redactor.secrets.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
  let out = text;
  // Longest first, so a secret containing another is replaced whole.
  for (const secret of sorted(redactor.secrets)) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
  }
  return out;
}

/** Redacts with every secret the process knows, then cuts: a cut before redaction leaks a prefix. */
export function redactOutput(text: string): string {
  return redactText(text, processRedactor);
}

export function redactValue<T>(value: T, redactor: Redactor = processRedactor): T {
  if (redactor.secrets.size === 0) return value;
  return JSON.parse(redactText(JSON.stringify(value), redactor)) as T;
}
