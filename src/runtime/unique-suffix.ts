/**
 * `PID.XXXXXXXX` (8 hex digits), a suffix for temp files that no other live temp file has: the pid, and a
 * per-process counter (low 12 bits) under random bits (for a pid reused after a crash). `sweepTempFiles`
 * reads the pid back. The files are opened with O_EXCL, so a guessed name can only fail a write, never
 * redirect it: that is why Math.random is enough, and it keeps node:crypto (about a tenth of a healthy
 * tick's start-up) off the run path.
 */
let counter = 0;

export function uniqueSuffix(): string {
  counter = (counter + 1) & 0xfff;
  const random = Math.floor(Math.random() * 0x10_0000);
  return `${process.pid}.${(random * 0x1000 + counter).toString(16).padStart(8, "0")}`;
}
