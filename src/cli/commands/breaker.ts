/**
 * `upkeep breaker reset|isolate SERVICE [--until DURATION]`: changes one service's breaker by hand.
 *
 * The change is a read-modify-write of breakers.json, so it runs under the tick lock: a tick running at
 * the same moment would otherwise write its own copy over it. When a tick holds the lock this exits 3
 * at once (try again in a moment) instead of waiting.
 */
import { userInfo } from "node:os";
import type { ServiceConfig } from "../../config/model.js";
import { suggest } from "../../config/suggest.js";
import { stepHealBreaker, type HealBreakerEvent } from "../../core/heal-breaker.js";
import {
  emptyBreaker,
  emptyConcern,
  own,
  STATE_VERSION,
  withEntry,
  type BreakerState,
  type BreakersState,
} from "../../core/state.js";
import { formatDuration, parseDuration } from "../../duration.js";
import { ExitCode, isUpkeepError } from "../../errors.js";
import { acquireLock } from "../../runtime/lock.js";
import { readConcern, writeConcern } from "../../runtime/state-store.js";
import { chooseFormat, parseFlags } from "../args.js";
import { recordCommand } from "../history.js";
import { loadConfigOrReport, unknownService } from "../load-config.js";

const HELP = `Usage: upkeep breaker <reset|isolate> SERVICE [options]

  reset      close the breaker: counters cleared, healing allowed again
  isolate    open it by hand: no heals for SERVICE until --until passes (then a trial heal, as after any
             open) or until \`upkeep breaker reset\`; probes and alerts go on

Options:
  --until DURATION   isolate: for how long (e.g. 30m, 2h); default until reset
  --by NAME          who did it, recorded in the history (default: the OS user name)
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES)
  --state-dir DIR    state directory (env UPKEEP_STATE_DIR)
  --format FORMAT    text (default) or json
  -h, --help         this help

Exit codes: 0 changed, 2 usage, bad rules or unknown service, 3 a tick holds the lock (try again).
`;

const OPTIONS = {
  rules: { type: "string" },
  "state-dir": { type: "string" },
  until: { type: "string" },
  by: { type: "string" },
  format: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const ACTIONS = ["reset", "isolate"] as const;
const BREAKERS = { version: STATE_VERSION, fresh: (): BreakersState => emptyConcern("breakers") };

function usage(message: string): number {
  process.stderr.write(`upkeep breaker: ${message}\n`);
  return ExitCode.usage;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, OPTIONS);
  if (!parsed.ok) return usage(parsed.message);
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(HELP);
    return ExitCode.ok;
  }
  const [action, id, ...extra] = positionals;
  if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
    const hint = action === undefined ? undefined : suggest(action, ACTIONS);
    return usage(
      `${action === undefined ? "missing" : `unknown action "${action}"`}: reset or isolate${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`,
    );
  }
  if (id === undefined) return usage(`which service? upkeep breaker ${action} SERVICE`);
  if (extra.length > 0) return usage(`unexpected argument "${extra[0]}"`);
  const untilMs = values.until === undefined ? undefined : parseDuration(values.until);
  if (values.until !== undefined && (action !== "isolate" || untilMs === undefined || untilMs <= 0)) {
    return usage(
      action !== "isolate"
        ? "--until only goes with isolate"
        : `--until must be a duration like 30m or 2h, not "${values.until}"`,
    );
  }
  const format = chooseFormat(values.format, ["text", "json"] as const, "text");
  if (!format.ok) return usage(format.message);

  const { config } = await loadConfigOrReport(values, process.env);
  if (config === undefined) return ExitCode.usage;
  const missing = unknownService(config, id);
  if (missing !== undefined) return usage(missing);
  const service = config.services.find((s) => s.id === id) as ServiceConfig;
  const now = Date.now();
  const event: HealBreakerEvent =
    action === "reset"
      ? { type: "reset" }
      : { type: "isolate", ...(untilMs === undefined ? {} : { until: now + untilMs }) };
  let state: BreakerState;
  try {
    state = await change(config.runtime.stateDir, service, event, now, values.by ?? who());
  } catch (error) {
    if (isUpkeepError(error, "E_LOCKED")) {
      process.stderr.write(
        `upkeep breaker: a tick is running, try again when it is done: ${error.message}\n`,
      );
      return ExitCode.locked;
    }
    throw error;
  }
  await recordCommand(
    config,
    {
      command: `breaker ${action}`,
      service: id,
      by: values.by ?? who(),
      detail: untilMs === undefined ? "" : `for ${formatDuration(untilMs)}`,
    },
    now,
  );
  if (format.value === "json") {
    process.stdout.write(`${JSON.stringify({ service: id, action, breaker: state }, null, 2)}\n`);
  } else {
    process.stdout.write(`${describe(service, state, untilMs)}\n`);
  }
  return ExitCode.ok;
}

/** Under the tick lock: read breakers.json, apply the event, write it back. */
async function change(
  stateDir: string,
  service: ServiceConfig,
  event: HealBreakerEvent,
  now: number,
  by: string,
): Promise<BreakerState> {
  const release = await acquireLock(stateDir, {
    owner: `upkeep breaker ${event.type} ${service.id} (${by})`,
  });
  try {
    const { value, warnings } = await readConcern(stateDir, "breakers", BREAKERS);
    for (const warning of warnings) process.stderr.write(`upkeep: ${warning}\n`);
    const current = own(value.breakers, service.id) ?? emptyBreaker();
    const next = stepHealBreaker(service.breaker, current, event, now).state;
    await writeConcern(stateDir, "breakers", {
      ...value,
      breakers: withEntry(value.breakers, service.id, next),
    });
    return next;
  } finally {
    await release();
  }
}

function who(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? "?"}`;
  }
}

function describe(service: ServiceConfig, s: BreakerState, untilMs: number | undefined): string {
  const name = `${service.title} (${service.id})`;
  if (s.state !== "OPEN") return `${name}: breaker ${s.state} (reset: healing allowed again)`;
  const until =
    s.openUntil === null
      ? "until `upkeep breaker reset`"
      : `until ${new Date(s.openUntil).toISOString()}${untilMs === undefined ? "" : ` (${formatDuration(untilMs)})`}`;
  return `${name}: breaker OPEN, isolated ${until}: no heals meanwhile, probes and alerts go on`;
}
