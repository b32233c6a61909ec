import { describe, expect, it } from "vitest";
import {
  logChannel as logChannelImpl,
  type LogChannelParams,
  levelForEvents,
} from "../../../src/actions/channels/log.js";
import type { ChannelHandler } from "../../../src/actions/types.js";
import type { AlertEvent, Notification } from "../../../src/actions/types.js";
import { makeContext, memoryLogger, never, settings } from "../helpers.js";

/** Typed through the interface, as the runtime calls it. */
const logChannel: ChannelHandler<LogChannelParams> = logChannelImpl;

function event(level: string, kind: AlertEvent["kind"] = "firing"): AlertEvent {
  return {
    kind,
    ruleId: `service-${level.toLowerCase()}`,
    level,
    serviceId: "boss-api",
    serviceTitle: "Boss API",
    message: `Boss API is down (${level})`,
    facts: { status: "down" },
    since: Date.parse("2025-06-01T12:00:00Z"),
    count: 1,
  };
}

function notify(events: AlertEvent[]): Notification {
  return { channel: "log", events, text: events.map((e) => e.message).join("\n") };
}

describe("log channel", () => {
  it("logs at a level derived from the alert level", async () => {
    for (const [level, expected] of [
      ["CRITICAL", "error"],
      ["WARNING", "warn"],
      ["INFO", "info"],
      ["custom", "info"],
    ] as const) {
      const logger = memoryLogger();
      const result = await logChannel.run(
        makeContext({ logger, notification: notify([event(level)]) }),
        {},
        never(),
      );
      expect(result).toEqual({ ok: true, detail: `logged at ${expected}` });
      expect(logger.lines).toHaveLength(1);
      expect(logger.lines[0]).toMatchObject({ level: expected, msg: `Boss API is down (${level})` });
      expect(logger.lines[0]?.obj).toMatchObject({
        channel: "log",
        alerts: [
          { kind: "firing", rule: `service-${level.toLowerCase()}`, level, service: "boss-api", count: 1 },
        ],
      });
    }
  });

  it("uses the most severe level of a grouped message, and info for resolved notices", () => {
    expect(levelForEvents([event("INFO"), event("CRITICAL"), event("WARNING")])).toBe("error");
    expect(levelForEvents([event("CRITICAL", "resolved")])).toBe("info");
  });

  it("uses the level parameter when given; fatal needs a logger that has it", async () => {
    const logger = memoryLogger();
    await logChannel.run(
      makeContext({ logger, notification: notify([event("CRITICAL")]) }),
      { level: "warn" },
      never(),
    );
    expect(logger.lines[0]?.level).toBe("warn");

    await logChannel.run(
      makeContext({ logger, notification: notify([event("CRITICAL")]) }),
      { level: "fatal" },
      never(),
    );
    expect(logger.lines[1]?.level).toBe("error");
    const fatal: string[] = [];
    const withFatal = Object.assign(memoryLogger(), {
      fatal: (_obj: object, msg?: string) => fatal.push(msg ?? ""),
    });
    await logChannel.run(
      makeContext({ logger: withFatal, notification: notify([event("INFO")]) }),
      { level: "fatal" },
      never(),
    );
    expect(fatal).toEqual(["Boss API is down (INFO)"]);
  });

  it("fails without a notification or with an unknown level", async () => {
    expect((await logChannel.run(makeContext(), {}, never())).ok).toBe(false);
    const bad = await logChannel.run(
      makeContext({ notification: notify([event("INFO")]) }),
      { level: "loud" as "info" },
      never(),
    );
    expect(bad).toEqual({
      ok: false,
      detail: 'invalid parameter level: "loud" is not one of info, warn, error, fatal',
    });
  });

  it("describes itself", () => {
    expect(logChannel.describe({ level: "warn" }, { settings })).toBe("log alerts at warn");
  });
});
