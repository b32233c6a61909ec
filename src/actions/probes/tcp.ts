/** tcp: passes when a TCP connection to host:port opens before the probe's signal aborts. */
import { abortDetail, loadSchema, optionalString, paramFailure, toInteger } from "../support.js";
import type { ProbeHandler, ProbeResult } from "../types.js";
import { stopwatch } from "../../runtime/stopwatch.js";

export type TcpParams = {
  /** Default 127.0.0.1. */
  host?: string;
  /** 1..65535, a number or a numeric string after templating. */
  port: number | string;
};

export const tcpProbe = {
  name: "tcp",
  kind: "probe",
  description: "Opens a TCP connection to host:port; passes when it connects.",
  get schema() {
    return loadSchema("probe", "tcp");
  },
  sideEffects: "none",
  describe: (params) => `tcp connect ${params.host ?? "127.0.0.1"}:${String(params.port)}`,
  async run(_ctx, params, signal): Promise<ProbeResult> {
    let host: string;
    let port: number;
    try {
      host = optionalString(params.host, "host") ?? "127.0.0.1";
      port = toInteger(params.port, "port", 1, 65535);
    } catch (error) {
      return { ok: false, latencyMs: 0, detail: paramFailure(error) };
    }
    const facts = { host, port };
    const { connect } = await import("node:net");
    // Checked after the import: an abort during it would otherwise never be heard.
    if (signal.aborted) return { ok: false, latencyMs: 0, detail: abortDetail(signal), facts };
    const elapsed = stopwatch();
    return new Promise<ProbeResult>((resolve) => {
      const socket = connect({ host, port });
      const finish = (ok: boolean, detail: string): void => {
        signal.removeEventListener("abort", onAbort);
        socket.destroy();
        resolve({ ok, latencyMs: elapsed(), detail, facts });
      };
      const onAbort = (): void => finish(false, `${abortDetail(signal)} connecting to ${host}:${port}`);
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("connect", () => finish(true, `connected to ${host}:${port}`));
      socket.once("error", (error: NodeJS.ErrnoException) =>
        finish(false, `connect ${error.code ?? error.message} ${host}:${port}`),
      );
    });
  },
} satisfies ProbeHandler<TcpParams>;
