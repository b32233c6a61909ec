/**
 * The one place that lists handlers: built-ins as a plain map per kind (checked with `satisfies`), plus
 * handlers registered by plugins. Names are unique per kind only: `http` and `exec` are both a probe and
 * a step, so look-ups should say which kind they want.
 *
 * Importing this module is cheap: handler modules are small and load their heavy dependencies (execa,
 * node:https, json-logic) and their JSON Schemas only when used.
 */
import { UpkeepError } from "../errors.js";
import { alertmanagerChannel } from "./channels/alertmanager.js";
import { commandChannel } from "./channels/command.js";
import { discordChannel } from "./channels/discord.js";
import { emailChannel } from "./channels/email.js";
import { logChannel } from "./channels/log.js";
import { macosChannel } from "./channels/macos.js";
import { ntfyChannel } from "./channels/ntfy.js";
import { slackChannel } from "./channels/slack.js";
import { webhookChannel } from "./channels/webhook.js";
import { diskProbe } from "./probes/disk.js";
import { execProbe } from "./probes/exec.js";
import { fileProbe } from "./probes/file.js";
import { httpProbe } from "./probes/http.js";
import { launchdProbe } from "./probes/launchd.js";
import { systemdProbe } from "./probes/systemd.js";
import { tcpProbe } from "./probes/tcp.js";
import { tlsProbe } from "./probes/tls.js";
import { execStep } from "./steps/exec.js";
import { httpStep } from "./steps/http.js";
import { launchdBootoutStep } from "./steps/launchd-bootout.js";
import { launchdBootstrapStep } from "./steps/launchd-bootstrap.js";
import { launchdKickstartStep } from "./steps/launchd-kickstart.js";
import { launchdLoadStep } from "./steps/launchd-load.js";
import { launchdUnloadStep } from "./steps/launchd-unload.js";
import { systemdRestartStep } from "./steps/systemd-restart.js";
import { verifyStep } from "./steps/verify.js";
import { waitStep } from "./steps/wait.js";
import type { ChannelHandler, Handler, HandlerKind, ProbeHandler, StepHandler } from "./types.js";

interface HandlersByKind {
  readonly probe: ProbeHandler;
  readonly step: StepHandler;
  readonly channel: ChannelHandler;
}

type Builtins = { readonly [K in HandlerKind]: Readonly<Record<string, HandlersByKind[K]>> };

export const builtinHandlers = {
  probe: {
    tcp: tcpProbe,
    http: httpProbe,
    exec: execProbe,
    launchd: launchdProbe,
    file: fileProbe,
    systemd: systemdProbe,
    tls: tlsProbe,
    disk: diskProbe,
  },
  step: {
    wait: waitStep,
    verify: verifyStep,
    exec: execStep,
    http: httpStep,
    "launchd.unload": launchdUnloadStep,
    "launchd.load": launchdLoadStep,
    "launchd.kickstart": launchdKickstartStep,
    "launchd.bootout": launchdBootoutStep,
    "launchd.bootstrap": launchdBootstrapStep,
    "systemd.restart": systemdRestartStep,
  },
  channel: {
    log: logChannel,
    discord: discordChannel,
    slack: slackChannel,
    webhook: webhookChannel,
    command: commandChannel,
    macos: macosChannel,
    ntfy: ntfyChannel,
    alertmanager: alertmanagerChannel,
    email: emailChannel,
  },
} satisfies Builtins;

export const HANDLER_KINDS: readonly HandlerKind[] = ["probe", "step", "channel"];

const plugins: { readonly [K in HandlerKind]: Map<string, HandlersByKind[K]> } = {
  probe: new Map(),
  step: new Map(),
  channel: new Map(),
};

function builtin(kind: HandlerKind, name: string): Handler | undefined {
  const map: Readonly<Record<string, Handler>> = builtinHandlers[kind];
  return Object.hasOwn(map, name) ? map[name] : undefined;
}

/**
 * The handler of that kind and name. Without `kind`, kinds are searched in the order probe, step,
 * channel, so `getHandler("http")` is the probe: callers that want a step must pass "step".
 */
export function getHandler<K extends HandlerKind>(name: string, kind: K): HandlersByKind[K] | undefined;
export function getHandler(name: string, kind?: HandlerKind): Handler | undefined;
export function getHandler(name: string, kind?: HandlerKind): Handler | undefined {
  for (const k of kind === undefined ? HANDLER_KINDS : [kind]) {
    const found = builtin(k, name) ?? plugins[k].get(name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Names of every handler of a kind (built-ins and plugins), sorted. */
export function listHandlers(kind: HandlerKind): string[] {
  return [...Object.keys(builtinHandlers[kind]), ...plugins[kind].keys()].sort();
}

const NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/i;

/**
 * Adds a plugin's handler. Refuses a malformed handler or a name its kind already has (built-in or
 * plugin) with an E_PLUGIN error. Returns a function that removes it again (tests, plugin reloads).
 */
export function registerHandler(handler: Handler): () => void {
  const value = handler as Partial<Handler> | null;
  const kind = value?.kind;
  if (kind !== "probe" && kind !== "step" && kind !== "channel") {
    throw new UpkeepError("E_PLUGIN", `handler has no valid kind (probe, step or channel): ${String(kind)}`);
  }
  const name = value?.name;
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new UpkeepError("E_PLUGIN", `${kind} handler has an invalid name: ${JSON.stringify(name)}`, {
      kind,
    });
  }
  for (const member of ["run", "describe"] as const) {
    if (typeof value?.[member] !== "function") {
      throw new UpkeepError("E_PLUGIN", `${kind} handler "${name}" has no ${member}() function`, {
        kind,
        name,
      });
    }
  }
  if (!["none", "local", "network"].includes(String(value?.sideEffects))) {
    throw new UpkeepError(
      "E_PLUGIN",
      `${kind} handler "${name}" must declare sideEffects none, local or network`,
      {
        kind,
        name,
      },
    );
  }
  if (builtin(kind, name) !== undefined || plugins[kind].has(name)) {
    throw new UpkeepError("E_PLUGIN", `a ${kind} handler named "${name}" is already registered`, {
      kind,
      name,
    });
  }
  const map = plugins[kind] as Map<string, Handler>;
  map.set(name, handler);
  return () => {
    if (map.get(name) === handler) map.delete(name);
  };
}
