// An upkeep plugin: one probe handler, `redis.ping`, that sends the Redis inline command PING and
// passes when the server answers +PONG. Name it in the rules' runtime.plugins and use it like a
// built-in probe:
//
//   runtime:
//     plugins: [../redis-ping-plugin/index.mjs]      # a path (relative to the rules dir) or an npm package
//   services:
//     cache:
//       probe: { type: redis.ping, port: 6379 }
//
// A plugin module exports `handlers`: an array of objects with the same shape as built-in handlers
// (name, kind, description, schema, sideEffects, describe, run). `validate` checks each service's
// parameters against `schema`, and `plan` shows `describe()` instead of running handlers whose
// sideEffects are not "none".
import { connect } from "node:net";
import { performance } from "node:perf_hooks";

/** @type {import("upkeep").ProbeHandler<{ host?: string; port: number }>} */
export const redisPing = {
  name: "redis.ping",
  kind: "probe",
  description: "Sends PING to a Redis server and passes when it answers +PONG.",
  schema: {
    type: "object",
    additionalProperties: false,
    required: ["port"],
    properties: {
      host: { type: "string", description: "Server address (default 127.0.0.1)." },
      port: { type: "integer", minimum: 1, maximum: 65535, description: "Server port, usually 6379." },
    },
  },
  sideEffects: "none",
  describe: (params) => `redis PING ${params.host ?? "127.0.0.1"}:${params.port}`,
  run(_ctx, params, signal) {
    const host = params.host ?? "127.0.0.1";
    const started = performance.now();
    return new Promise((resolve) => {
      const socket = connect({ host, port: Number(params.port) });
      let reply = "";
      const finish = (ok, detail) => {
        signal.removeEventListener("abort", onAbort);
        socket.destroy();
        resolve({ ok, latencyMs: Math.round(performance.now() - started), detail });
      };
      const onAbort = () => finish(false, `timed out waiting for PONG from ${host}:${params.port}`);
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("connect", () => socket.write("PING\r\n"));
      socket.on("data", (chunk) => {
        reply += chunk.toString("utf8");
        if (reply.includes("\r\n")) {
          const line = reply.split("\r\n")[0];
          finish(line === "+PONG", line === "+PONG" ? "PONG" : `unexpected reply: ${line.slice(0, 80)}`);
        }
      });
      socket.once("error", (error) =>
        finish(false, `connect ${error.code ?? error.message} ${host}:${params.port}`),
      );
    });
  },
};

export const handlers = [redisPing];
