/**
 * A real HTTP server on 127.0.0.1 (ephemeral port) standing in for Discord, Slack or any webhook
 * receiver: it records every request (raw body included) and answers from a script of replies.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { AlertEvent, Notification } from "../../../src/actions/types.js";

export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The exact bytes received, as UTF-8. */
  readonly body: string;
}

/** `hang` never answers (the sender's timeout must end it). */
export type Reply = { status: number; body?: string; headers?: Record<string, string> } | "hang";

export interface Recorder {
  readonly url: string;
  readonly port: number;
  readonly requests: Recorded[];
  /** Replies used in order; when they run out, `fallback` answers. */
  reply(...replies: Reply[]): void;
  fallback: Reply;
  json(i: number): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startRecorder(path = "/hook"): Promise<Recorder> {
  const requests: Recorded[] = [];
  const script: Reply[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const recorder = {
    requests,
    fallback: { status: 204 } as Reply,
    reply: (...replies: Reply[]) => {
      script.push(...replies);
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const reply = script.shift() ?? recorder.fallback;
      if (reply === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body ?? "");
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return Object.assign(recorder, {
    port: address.port,
    url: `http://127.0.0.1:${address.port}${path}`,
    json: (i: number) => JSON.parse(requests[i]?.body ?? "null") as Record<string, unknown>,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}

export const T0 = Date.parse("2025-06-01T12:00:00Z");

export function alertEvent(overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
    kind: "firing",
    ruleId: "service-down-critical",
    level: "CRITICAL",
    serviceId: "boss-api",
    serviceTitle: "Boss API",
    message: "[CRITICAL] Boss API is down: connect ECONNREFUSED 127.0.0.1:4000 (3 failed checks)",
    facts: {
      service: { id: "boss-api", title: "Boss API", tags: [] },
      status: "down",
      detail: "connect ECONNREFUSED 127.0.0.1:4000",
      latencyMs: 1,
      consecutiveFailures: 3,
      consecutiveSuccesses: 0,
      since: T0 - 10 * 60_000,
      breaker: "CLOSED",
      heal: { outcome: "failed", reason: "verify failed", budgetLeft: 2 },
      blockedBy: [],
    },
    since: T0,
    count: 1,
    ...overrides,
  };
}

export function notificationOf(events: AlertEvent[], channel = "test"): Notification {
  return { id: "n-1234", createdAt: T0, channel, events, text: events.map((e) => e.message).join("\n") };
}

/** A clock frozen at `at` (sends use real timers for their timeouts). */
export function frozenClock(at = T0): { now: () => number; sleep: (ms: number) => Promise<void> } {
  return { now: () => at, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
}
