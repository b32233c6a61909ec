/** systemd.restart: `systemctl [--user] restart <unit>`. */
import { displayCommand, toStepResult } from "../launchctl.js";
import { formatCommandLine, runProcess } from "../../runtime/process.js";
import { loadSchema, paramFailure, requireString, toBoolean } from "../support.js";
import type { StepHandler, StepResult } from "../types.js";

export type SystemdRestartParams = {
  unit: string;
  /** The user's service manager (--user); default true. */
  user?: boolean | string;
};

/** Safety cap only: the runtime's signal carries the step timeout. */
const PROCESS_CAP_MS = 10 * 60_000;

function restartArgs(user: boolean, unit: string): string[] {
  return user ? ["--user", "restart", unit] : ["restart", unit];
}

export const systemdRestartStep = {
  name: "systemd.restart",
  kind: "step",
  description: "Restarts a systemd unit with `systemctl [--user] restart`.",
  get schema() {
    return loadSchema("step", "systemd.restart");
  },
  sideEffects: "local",
  describe: (params, ctx) =>
    formatCommandLine([
      displayCommand(ctx.settings.systemctlPath, "systemctl"),
      ...restartArgs(params.user !== false && params.user !== "false", String(params.unit)),
    ]),
  async run(ctx, params, signal): Promise<StepResult> {
    let unit: string;
    let user: boolean;
    try {
      unit = requireString(params.unit, "unit");
      user = toBoolean(params.user, "user", true);
    } catch (error) {
      return { ok: false, detail: paramFailure(error) };
    }
    const args = restartArgs(user, unit);
    const line = formatCommandLine([displayCommand(ctx.settings.systemctlPath, "systemctl"), ...args]);
    const result = await runProcess([ctx.settings.systemctlPath, ...args], {
      env: ctx.env,
      signal,
      timeoutMs: PROCESS_CAP_MS,
      outputLimit: 4096,
    });
    return toStepResult(line, result, signal);
  },
} satisfies StepHandler<SystemdRestartParams>;
