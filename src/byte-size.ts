/** Byte sizes in rules (`10MiB`, `500KB`) and the default log rotation. */
export interface LogRotation {
  /** Rotate once the file is at least this big. */
  readonly maxBytes: number;
  /** Rotated files kept (`.1` ... `.keep`); 0 = the full log is deleted instead. */
  readonly keep: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = Object.freeze({ maxBytes: 10 * 1024 * 1024, keep: 5 });

const UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1000,
  KIB: 1024,
  MB: 1000 ** 2,
  MIB: 1024 ** 2,
  GB: 1000 ** 3,
  GIB: 1024 ** 3,
};

/** `10MiB`, `500KB`, `1GiB`, `2048` (bytes); undefined when it is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (match === null) return undefined;
  const unit = UNITS[(match[2] === "" ? "B" : (match[2] as string)).toUpperCase()];
  if (unit === undefined) return undefined;
  return Math.round(Number(match[1]) * unit);
}
