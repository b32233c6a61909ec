/** A small parser of the Prometheus text format, enough to check what upkeep writes. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Parsed {
  readonly samples: Sample[];
  /** name -> HELP text and TYPE. */
  readonly meta: Map<string, { help?: string; type?: string }>;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_m, c: string) => (c === "n" ? "\n" : c));
}

export function parseProm(text: string): Parsed {
  const samples: Sample[] = [];
  const meta = new Map<string, { help?: string; type?: string }>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment !== null) {
      const entry = meta.get(comment[2]!) ?? {};
      if (comment[1] === "HELP") entry.help = comment[3]!;
      else entry.type = comment[3]!;
      meta.set(comment[2]!, entry);
      continue;
    }
    const match = LINE.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? "";
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const start = LABEL.lastIndex;
      const l = LABEL.exec(body);
      if (l === null || LABEL.lastIndex === start) throw new Error(`bad labels: ${body}`);
      labels[l[1]!] = unescape(l[2]!);
    }
    const raw = match[3]!;
    samples.push({ name: match[1]!, labels, value: raw === "+Inf" ? Infinity : Number(raw) });
  }
  return { samples, meta };
}

/** The value of the one sample with this name and these labels (undefined when absent). */
export function valueOf(
  parsed: Parsed,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const hits = parsed.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (hits.length > 1) throw new Error(`${hits.length} samples match ${name} ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}
