/**
 * The CLI's own boundary: everything written to stdout and stderr passes the process-wide redactor,
 * and a reader that goes away (`upkeep status | head -1`) ends output quietly instead of crashing the
 * command with an unhandled EPIPE in the middle of a tick's state writes.
 */
import { redactOutput } from "../runtime/redact.js";

/** 128 + SIGPIPE: what a shell reports for a writer whose reader closed the pipe. */
export const BROKEN_PIPE_EXIT = 141;

const broken = new WeakSet<NodeJS.WriteStream>();
const GUARDED = Symbol("upkeep.outputGuard");
const listening = new WeakSet<NodeJS.WriteStream>();

/** stdout's reader went away: the command's output was cut off. */
export function outputWasCutOff(): boolean {
  return broken.has(process.stdout);
}

type Write = typeof process.stdout.write;

function guard(stream: NodeJS.WriteStream): void {
  // Idempotent, and re-applied when someone (a test capturing output) replaced `write` since.
  if ((stream.write as unknown as Record<symbol, unknown>)[GUARDED] === true) return;
  const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  const write = (chunk: unknown, ...rest: unknown[]): boolean => {
    if (broken.has(stream)) {
      // Nothing reads any more; report the write as done so callbacks still run.
      const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
      callback?.();
      return true;
    }
    const text =
      typeof chunk === "string"
        ? redactOutput(chunk)
        : chunk instanceof Uint8Array
          ? redactOutput(Buffer.from(chunk).toString("utf8"))
          : chunk;
    return original(text, ...rest);
  };
  Object.defineProperty(write, GUARDED, { value: true });
  stream.write = write as Write;
  if (listening.has(stream)) return;
  listening.add(stream);
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") {
      broken.add(stream);
      // The error can arrive after the command returned its code: the cut-off still decides it.
      if (stream === process.stdout) process.exitCode = BROKEN_PIPE_EXIT;
      return;
    }
    // Any other stream failure is as fatal as before, but never silent.
    throw error;
  });
}

export function guardOutput(): void {
  guard(process.stdout);
  guard(process.stderr);
}
