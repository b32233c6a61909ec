/**
 * Looks for planted secret values in captured text: raw, URL-encoded, JSON-escaped, base64 (at every
 * byte alignment, so a secret inside a longer encoded string is found too) and partial (any 16-character
 * window, which is what a truncated detail leaves). A hit names the form and carries a short excerpt in
 * which every planted value is masked, so a failure message never prints a secret it reports.
 */
import { createHash } from "node:crypto";

export interface Secret {
  /** Stable name of the place the value was planted, e.g. EXEC_PROBE_ENV. */
  readonly name: string;
  /** The recognisable token searched for. */
  readonly value: string;
}

export type Form = "raw" | "json-escaped" | "url-encoded" | "base64" | "partial";

export interface Hit {
  readonly secret: string;
  readonly form: Form;
  /** How many times this form occurs in the capture. */
  readonly count: number;
  readonly excerpt: string;
}

const WINDOW = 16;
const CONTEXT = 40;

/**
 * A secret that is distinct in every 16-character window (so a partial hit names one place only) and
 * deterministic (so a failure is reproducible): `S3cr3t-<8 hex>-<TAG>-<6 hex>`, TAG at most 8 chars.
 * `extra` appends characters that encoding changes (`+/"=`) where the place can carry them.
 */
export function makeSecret(tag: string, extra = ""): string {
  if (tag.length > 8) throw new Error(`tag "${tag}" is longer than 8 characters`);
  const hash = createHash("sha256").update(`upkeep-planted-${tag}`).digest("hex");
  return `S3cr3t-${hash.slice(0, 8)}-${tag}-${hash.slice(8, 14)}${extra}`;
}

/** Base64 of the secret at each of the three byte alignments, keeping only characters no neighbour affects. */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const forms: string[] = [];
  for (const pad of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString("base64");
    const start = pad === 0 ? 0 : 4;
    const end = Math.floor((pad + bytes.length) / 3) * 4;
    const core = encoded.slice(start, end);
    if (core.length >= WINDOW) forms.push(core, core.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return [...new Set(forms)];
}

interface Pattern {
  readonly form: Form;
  readonly needle: string;
}

function patternsOf(value: string): Pattern[] {
  const patterns: Pattern[] = [{ form: "raw", needle: value }];
  const json = JSON.stringify(value).slice(1, -1);
  if (json !== value) patterns.push({ form: "json-escaped", needle: json });
  for (const url of [encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, "+")]) {
    if (url !== value) patterns.push({ form: "url-encoded", needle: url });
  }
  for (const b64 of base64Forms(value)) patterns.push({ form: "base64", needle: b64 });
  for (let i = 0; i + WINDOW <= value.length; i++) {
    patterns.push({ form: "partial", needle: value.slice(i, i + WINDOW) });
  }
  return patterns;
}

function countOf(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length))
    count++;
  return count;
}

const FRAGMENT = 8;

/**
 * Replaces every planted value with «NAME» (whole, in any encoded form) or «NAME~» (a fragment of 8 or
 * more characters), so an excerpt is safe to print in a failure message.
 */
export function maskAll(text: string, secrets: readonly Secret[]): string {
  let out = text;
  for (const s of secrets) {
    for (const p of patternsOf(s.value)) {
      if (p.form !== "partial" && out.includes(p.needle)) out = out.split(p.needle).join(`«${s.name}»`);
    }
  }
  // 8-grams shared by two values (the common "S3cr3t-" start) mask without naming either.
  const owner = new Map<string, string>();
  for (const s of secrets) {
    for (let i = 0; i + FRAGMENT <= s.value.length; i++) {
      const gram = s.value.slice(i, i + FRAGMENT);
      const known = owner.get(gram);
      owner.set(gram, known === undefined || known === s.name ? s.name : "");
    }
  }
  const masked: (string | undefined)[] = [...out].map(() => undefined);
  for (let i = 0; i + FRAGMENT <= out.length; i++) {
    const name = owner.get(out.slice(i, i + FRAGMENT));
    if (name !== undefined) for (let j = i; j < i + FRAGMENT; j++) masked[j] = masked[j] || name;
  }
  let result = "";
  for (let i = 0; i < out.length;) {
    if (masked[i] === undefined) {
      result += out[i];
      i++;
      continue;
    }
    let end = i;
    while (end < out.length && masked[end] !== undefined) end++;
    const name = masked.slice(i, end).find((n) => n !== "") ?? "SECRET";
    result += `«${name}~»`;
    i = end;
  }
  return result;
}

/** Every planted value found in `text`, each with its most telling form (partial only when nothing longer matched). */
export function findSecrets(text: string, secrets: readonly Secret[]): Hit[] {
  const hits: Hit[] = [];
  for (const s of secrets) {
    let found = false;
    for (const p of patternsOf(s.value)) {
      if (p.form === "partial" && found) break;
      const at = text.indexOf(p.needle);
      if (at === -1) continue;
      found = true;
      const excerpt = text.slice(Math.max(0, at - CONTEXT), at + p.needle.length + CONTEXT);
      hits.push({
        secret: s.name,
        form: p.form,
        count: countOf(text, p.needle),
        excerpt: maskAll(excerpt, secrets).replace(/\s+/g, " "),
      });
      if (p.form === "partial") break;
    }
  }
  // One line per (secret, form): the first pattern of a form stands for it.
  const seen = new Set<string>();
  return hits.filter((h) => {
    const key = `${h.secret}\0${h.form}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
