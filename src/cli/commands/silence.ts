/**
 * `upkeep silence add|list|remove`: ad-hoc silences kept in state (src/runtime/silences.ts), honoured
 * by every tick next to the rules' own silences. A silence with --pause-healing is a maintenance window:
 * its services are not healed either.
 */
import { userInfo } from "node:os";
import type { Config } from "../../config/model.js";
import { suggest } from "../../config/suggest.js";
import { formatDuration, parseDuration } from "../../duration.js";
import { ExitCode, isUpkeepError } from "../../errors.js";
import { isoTime } from "../../runtime/alert-text.js";
import {
  KEEP_EXPIRED_MS,
  loadSilences,
  newSilenceId,
  silenceState,
  updateSilences,
  type StoredSilence,
} from "../../runtime/silences.js";
import {
  chooseFormat,
  FORMAT_OPTION,
  HELP_OPTION,
  parseFlags,
  RULES_OPTION,
  STATE_DIR_OPTION,
} from "../args.js";
import { loadConfigOrReport } from "../load-config.js";
import { recordCommand } from "../history.js";

type Env = Readonly<Record<string, string | undefined>>;

const OPTIONS = {
  ...RULES_OPTION,
  ...STATE_DIR_OPTION,
  ...FORMAT_OPTION,
  ...HELP_OPTION,
  service: { type: "string", multiple: true },
  level: { type: "string", multiple: true },
  for: { type: "string" },
  until: { type: "string" },
  start: { type: "string" },
  comment: { type: "string" },
  "pause-healing": { type: "boolean" },
  by: { type: "string" },
} as const;

export const HELP = `Usage: upkeep silence add [--service ID]... [--level LEVEL]... (--for DURATION | --until TIME)
                          --comment TEXT [--start TIME] [--pause-healing]
       upkeep silence list [--format text|json]
       upkeep silence remove ID

Mutes alerts for a while (a deploy, a known outage). Without --service it covers every service, without
--level every level. Notices that fall due while muted are skipped; a resolution waits until the silence
ends, so nobody misses that an alert they were told about is over. With --pause-healing it is also a
maintenance window: upkeep does not heal the silenced services meanwhile.

add prints the new silence id. list shows active, pending and recently expired silences (expired ones
are kept 7 days), including the rules' own silences (which only the rules can change).

Options:
  --service ID       a service to silence (repeatable; default all)
  --level LEVEL      an alert level to silence (repeatable; default all)
  --for DURATION     how long, e.g. 30m, 2h, 1d
  --until TIME       until an ISO date-time, e.g. 2025-06-01T22:00:00Z (no offset = local time)
  --start TIME       start later instead of now
  --comment TEXT     why (required: the next person needs to know)
  --pause-healing    also pause healing of the silenced services
  --by NAME          who did it, recorded with the silence and in the history (default: the OS user name)
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES)
  --state-dir DIR    state directory (env UPKEEP_STATE_DIR; default from the rules)
  --format FORMAT    text (default) or json
  -h, --help         this help

A silences file that is corrupt is never overwritten: list warns about it, add and remove refuse until
it is fixed or moved aside (the silences in it are not applied meanwhile).

Exit codes: 0 done, 1 no such silence (remove), 2 usage error, bad rules, or a silences file that is
corrupt or cannot be read.
`;

function usageError(message: string): number {
  process.stderr.write(`upkeep silence: ${message}\n`);
  return ExitCode.usage;
}

export async function run(argv: string[], env: Env = process.env): Promise<number> {
  const parsed = parseFlags(argv, OPTIONS);
  if (!parsed.ok) return usageError(parsed.message);
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(HELP);
    return ExitCode.ok;
  }
  const [sub, ...args] = positionals;
  const format = chooseFormat(values.format, ["text", "json"] as const, "text");
  if (!format.ok) return usageError(format.message);
  if (sub !== "add" && sub !== "list" && sub !== "remove") {
    const hint = sub === undefined ? undefined : suggest(sub, ["add", "list", "remove"]);
    return usageError(
      `${sub === undefined ? "name a subcommand" : `unknown subcommand "${sub}"`}: add, list or remove` +
        (hint === undefined ? "" : ` (did you mean "${hint}"?)`),
    );
  }
  const { config } = await loadConfigOrReport(values, env);
  if (config === undefined) return ExitCode.usage;
  const now = Date.now();
  try {
    if (sub === "list") return await list(config, now, format.value);
    if (sub === "remove") return await remove(config, args, now, format.value, values.by ?? whoami());
    if (args.length > 0) return usageError(`unexpected argument "${args[0] ?? ""}"`);
    return await add(config, values, now, format.value);
  } catch (error) {
    // A silences file that is corrupt or cannot be read: the message names it and what to do.
    if (isUpkeepError(error) && error.code.startsWith("E_STATE_")) {
      process.stderr.write(`upkeep silence: ${error.message}\n`);
      return ExitCode.usage;
    }
    throw error;
  }
}

interface AddFlags {
  service?: string[];
  level?: string[];
  for?: string;
  until?: string;
  start?: string;
  comment?: string;
  "pause-healing"?: boolean;
  by?: string;
}

function unknownIds(kind: string, given: readonly string[], known: readonly string[]): string | undefined {
  const bad = given.find((id) => !known.includes(id));
  if (bad === undefined) return undefined;
  const hint = suggest(bad, known);
  return `unknown ${kind} "${bad}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`;
}

function parseTime(text: string, flag: string): number | string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? `${flag} must be an ISO date-time like 2025-06-01T22:00:00Z, not "${text}"` : ms;
}

async function add(config: Config, flags: AddFlags, now: number, format: "text" | "json"): Promise<number> {
  const services = [...new Set(flags.service ?? [])];
  const levels = [...new Set(flags.level ?? [])];
  const problem =
    unknownIds(
      "service",
      services,
      config.services.map((s) => s.id),
    ) ?? unknownIds("level", levels, Object.keys(config.alerts.levels));
  if (problem !== undefined) return usageError(problem);
  if (flags.comment === undefined || flags.comment.trim() === "")
    return usageError("--comment TEXT is required");
  if ((flags.for === undefined) === (flags.until === undefined))
    return usageError("give exactly one of --for or --until");
  const startsAt = flags.start === undefined ? now : parseTime(flags.start, "--start");
  if (typeof startsAt === "string") return usageError(startsAt);
  let endsAt: number;
  if (flags.for !== undefined) {
    const ms = parseDuration(flags.for);
    if (ms === undefined || ms <= 0)
      return usageError(`--for must be a duration like 30m or 2h, not "${flags.for}"`);
    endsAt = startsAt + ms;
  } else {
    const until = parseTime(flags.until as string, "--until");
    if (typeof until === "string") return usageError(until);
    endsAt = until;
  }
  if (endsAt <= Math.max(startsAt, now))
    return usageError(`the silence would end at ${isoTime(endsAt)}, which is not in the future`);
  const silence: StoredSilence = {
    id: newSilenceId(),
    services,
    levels,
    startsAt,
    endsAt,
    pauseHealing: flags["pause-healing"] === true,
    comment: flags.comment.trim(),
    createdAt: now,
    createdBy: flags.by ?? whoami(),
  };
  await updateSilences(config.runtime.stateDir, now, (state) => ({
    state: { ...state, silences: [...state.silences, silence] },
    result: undefined,
  }));
  await recordCommand(
    config,
    {
      command: "silence add",
      ...(services.length === 1 ? { service: services[0] as string } : {}),
      by: silence.createdBy,
      detail: `${silence.id}: ${describe(silence)}`,
    },
    now,
  );
  if (format === "json") process.stdout.write(`${JSON.stringify(view(silence, now), null, 2)}\n`);
  else {
    process.stdout.write(`${silence.id}\n`);
    process.stderr.write(`upkeep silence: ${describe(silence)}\n`);
  }
  return ExitCode.ok;
}

async function remove(
  config: Config,
  ids: readonly string[],
  now: number,
  format: "text" | "json",
  by: string,
): Promise<number> {
  const [id, extra] = ids;
  if (id === undefined || extra !== undefined) return usageError("remove takes exactly one silence id");
  if (config.alerts.silences.some((s) => s.id === id)) {
    return usageError(`silence "${id}" comes from the rules (alerts.yaml); change it there`);
  }
  const known = await updateSilences(config.runtime.stateDir, now, (state) => ({
    state: { ...state, silences: state.silences.filter((s) => s.id !== id) },
    result: state.silences.map((s) => s.id),
  }));
  if (!known.includes(id)) {
    const hint = suggest(id, known);
    process.stderr.write(
      `upkeep silence: no silence "${id}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}\n`,
    );
    return ExitCode.failure;
  }
  await recordCommand(config, { command: "silence remove", by, detail: id }, now);
  if (format === "json") process.stdout.write(`${JSON.stringify({ removed: id })}\n`);
  else process.stdout.write(`removed ${id}\n`);
  return ExitCode.ok;
}

interface SilenceView {
  id: string;
  source: "state" | "rules";
  state: string;
  services: readonly string[];
  levels: readonly string[];
  startsAt: string | null;
  endsAt: string | null;
  pauseHealing: boolean;
  comment: string;
  createdBy?: string;
}

function view(s: StoredSilence, now: number): SilenceView {
  return {
    id: s.id,
    source: "state",
    state: silenceState(s, now),
    services: s.services,
    levels: s.levels,
    startsAt: isoTime(s.startsAt),
    endsAt: isoTime(s.endsAt),
    pauseHealing: s.pauseHealing,
    comment: s.comment,
    createdBy: s.createdBy,
  };
}

async function list(config: Config, now: number, format: "text" | "json"): Promise<number> {
  const stored = await loadSilences(config.runtime.stateDir, {
    warn: (message) => process.stderr.write(`upkeep silence: warning: ${message}\n`),
  });
  const views: SilenceView[] = [
    ...config.alerts.silences.map((s) => ({
      id: s.id,
      source: "rules" as const,
      state:
        s.weekly !== undefined
          ? "weekly"
          : s.endsAt !== undefined && now >= s.endsAt
            ? "expired"
            : s.startsAt !== undefined && now < s.startsAt
              ? "pending"
              : "active",
      services: s.services,
      levels: s.levels,
      startsAt: s.startsAt === undefined ? null : isoTime(s.startsAt),
      endsAt: s.endsAt === undefined ? null : isoTime(s.endsAt),
      pauseHealing: s.pauseHealing,
      comment: s.comment ?? "",
    })),
    ...stored.silences.filter((s) => now - s.endsAt <= KEEP_EXPIRED_MS).map((s) => view(s, now)),
  ];
  if (format === "json") {
    process.stdout.write(`${JSON.stringify({ silences: views }, null, 2)}\n`);
    return ExitCode.ok;
  }
  if (views.length === 0) process.stdout.write("No silences.\n");
  for (const v of views) {
    const scope = `${v.services.length === 0 ? "all services" : v.services.join(", ")}; ${v.levels.length === 0 ? "all levels" : v.levels.join(", ")}`;
    const when = `${v.startsAt ?? "always"} .. ${v.endsAt ?? "open-ended"}`;
    const flags = [v.source === "rules" ? "from rules" : "", v.pauseHealing ? "healing paused" : ""].filter(
      (f) => f !== "",
    );
    process.stdout.write(
      `${v.id}  ${v.state.toUpperCase()}  ${scope}  ${when}${flags.length === 0 ? "" : `  (${flags.join(", ")})`}` +
        `${v.comment === "" ? "" : `\n    ${v.comment}`}\n`,
    );
  }
  return ExitCode.ok;
}

function describe(s: StoredSilence): string {
  const what = `${s.levels.length === 0 ? "all" : s.levels.join("/")} alerts of ${s.services.length === 0 ? "every service" : s.services.join(", ")}`;
  return `silenced ${what} for ${formatDuration(s.endsAt - s.startsAt)} until ${isoTime(s.endsAt)}${s.pauseHealing ? " (healing paused)" : ""}`;
}

function whoami(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
