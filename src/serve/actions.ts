/**
 * The status page's actions, as CLI invocations: `upkeep serve` runs the CLI itself for each one, so an
 * action takes the same tick lock, goes through the same checks and lands in the same history as the
 * command typed in a terminal. Requests are checked here and become an argv array (data, never a shell
 * string); free text goes in as `--flag=value`, so a value starting with "-" is never read as a flag.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/model.js";
import { parseDuration } from "../duration.js";

export interface ActionRequest {
  readonly name: string;
  readonly body: unknown;
}

export interface ActionResult {
  readonly exitCode: number;
  /** The command's JSON document when it printed one, else its text. */
  readonly output: unknown;
  readonly error: string;
}

export type ActionRunner = (argv: readonly string[]) => Promise<ActionResult>;

export const ACTIONS = ["heal", "breaker-reset", "breaker-isolate", "silence-add", "silence-remove"] as const;

const BY = /^[\w .@:-]{1,64}$/;

/** The CLI argv (after `upkeep`) for an action, or why the request is refused. */
export function actionArgv(config: Config, request: ActionRequest): string[] | string {
  if (!(ACTIONS as readonly string[]).includes(request.name))
    return `unknown action "${request.name}": one of ${ACTIONS.join(", ")}`;
  const body = (typeof request.body === "object" && request.body !== null ? request.body : {}) as Record<
    string,
    unknown
  >;
  const by = body.by === undefined ? "status page" : body.by;
  if (typeof by !== "string" || !BY.test(by)) return "by: 1-64 letters, digits, spaces or . @ : - _";
  const who = `${by} (upkeep serve)`;
  const common = ["--rules", config.rulesDir, "--state-dir", config.runtime.stateDir, "--format", "json"];
  const service = (): string | undefined => {
    const id = body.service;
    return typeof id === "string" && config.services.some((s) => s.id === id) ? id : undefined;
  };
  const duration = (key: string, fallback?: string): string | undefined => {
    const text = body[key] ?? fallback;
    if (typeof text !== "string") return undefined;
    const ms = parseDuration(text);
    return ms !== undefined && ms > 0 ? text : undefined;
  };
  switch (request.name) {
    case "heal": {
      const id = service();
      if (id === undefined) return `service: one of ${config.services.map((s) => s.id).join(", ")}`;
      return ["heal", id, ...(body.force === true ? ["--force"] : []), `--by=${who}`, ...common];
    }
    case "breaker-reset":
    case "breaker-isolate": {
      const id = service();
      if (id === undefined) return `service: one of ${config.services.map((s) => s.id).join(", ")}`;
      if (request.name === "breaker-reset") return ["breaker", "reset", id, `--by=${who}`, ...common];
      const until = body.for === undefined ? undefined : duration("for");
      if (body.for !== undefined && until === undefined) return "for: a duration such as 30m or 2h";
      return [
        "breaker",
        "isolate",
        id,
        ...(until === undefined ? [] : ["--until", until]),
        `--by=${who}`,
        ...common,
      ];
    }
    case "silence-add": {
      const id = body.service === undefined ? undefined : service();
      if (body.service !== undefined && id === undefined) return "service: a service id, or none for all";
      const span = duration("for");
      if (span === undefined) return "for: a duration such as 30m or 2h";
      const comment = body.comment;
      if (typeof comment !== "string" || comment.trim() === "" || comment.length > 500)
        return "comment: why (1-500 characters)";
      return [
        "silence",
        "add",
        ...(id === undefined ? [] : ["--service", id]),
        "--for",
        span,
        `--comment=${comment}`,
        ...(body.pauseHealing === true ? ["--pause-healing"] : []),
        `--by=${who}`,
        ...common,
      ];
    }
    default: {
      const id = body.id;
      if (typeof id !== "string" || !/^\w[\w-]{0,63}$/.test(id)) return "id: the silence id";
      return ["silence", "remove", id, `--by=${who}`, ...common];
    }
  }
}

const BIN = fileURLToPath(new URL("../../bin/upkeep.js", import.meta.url));

/** Runs `node bin/upkeep.js ARGV` with the server's environment, bounded by `timeoutMs`. */
export function cliRunner(timeoutMs: number): ActionRunner {
  return (argv) =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...argv],
        { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, env: process.env },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === "number" ? error.code : 2;
          let output: unknown = stdout;
          try {
            output = JSON.parse(stdout);
          } catch {
            // a text answer (e.g. `removed ID`) stays text
          }
          resolve({ exitCode: code, output, error: stderr.trim() });
        },
      );
    });
}
