/** Errors with stable codes. Expected failures (a service down, a step failed) are result values, not these. */
export type ErrorCode =
  | "E_USAGE"
  | "E_RULES_INVALID"
  | "E_RULES_NOT_FOUND"
  | "E_LOCKED"
  | "E_STATE_VERSION"
  | "E_STATE_IO"
  /** A state file exists but cannot be read (permissions, a directory or FIFO in its place): left in place. */
  | "E_STATE_UNREADABLE"
  /** The state dir refuses new files: a tick would heal and alert without recording it. */
  | "E_STATE_UNWRITABLE"
  /** A state file that is not valid where moving it aside would lose data a user made (silences). */
  | "E_STATE_CORRUPT"
  | "E_BREAKER_OPEN"
  | "E_TIMEOUT"
  | "E_ABORTED"
  | "E_HANDLER"
  | "E_PLUGIN"
  | "E_INTERNAL";

export class UpkeepError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "UpkeepError";
    this.code = code;
    this.details = details;
  }
}

export function isUpkeepError(error: unknown, code?: ErrorCode): error is UpkeepError {
  return error instanceof UpkeepError && (code === undefined || error.code === code);
}

/** Exit codes (DESIGN.md contract). */
export const ExitCode = {
  ok: 0,
  /** validate: errors found; run: a service still down. */
  failure: 1,
  /** Usage error, bad rules (run/plan), internal error. */
  usage: 2,
  /** Another tick holds the lock. */
  locked: 3,
} as const;
