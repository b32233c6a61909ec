/**
 * Secrets are values read from the environment through `${env:NAME}`. Every output path (log lines,
 * plan, status, JSON documents, errors) passes through one redactor that knows those values.
 */
export interface Redactor {
  readonly secrets: ReadonlySet<string>;
  add(value: string): void;
}

/** Values shorter than this are not treated as secrets (redacting "1" would garble every line). */
const MIN_SECRET_LENGTH = 4;
export const REDACTED = "[REDACTED]";

export function createRedactor(initial: Iterable<string> = []): Redactor {
  const secrets = new Set<string>();
  const redactor: Redactor = {
    secrets,
    add(value: string) {
      for (const form of secretForms(value)) if (form.length >= MIN_SECRET_LENGTH) secrets.add(form);
    },
  };
  for (const value of initial) redactor.add(value);
  return redactor;
}

/**
 * A secret can come back transformed: percent-encoded in a URL, or (for a webhook URL) as just its path
 * and query, which is where the token lives, in an endpoint's error message.
 */
function secretForms(value: string): string[] {
  const forms = [value, encodeURIComponent(value), encodeURI(value)];
  if (/^https?:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      const tail = `${url.pathname}${url.search}`;
      // A bare "/" or a short path like "/h" is not secret; a token-bearing path is long.
      if (tail.length >= 8) forms.push(tail);
    } catch {
      // Not a URL after all: the value itself is redacted.
    }
  }
  return [...new Set(forms)];
}

export function redactText(text: string, redactor: Redactor): string {
  if (redactor.secrets.size === 0) return text;
  let out = text;
  // Longest first, so a secret containing another is replaced whole.
  for (const secret of [...redactor.secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
  }
  return out;
}

export function redactValue<T>(value: T, redactor: Redactor): T {
  if (redactor.secrets.size === 0) return value;
  return JSON.parse(redactText(JSON.stringify(value), redactor)) as T;
}
