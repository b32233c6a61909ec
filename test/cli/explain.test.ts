/** `upkeep explain` on rules in a temp dir and state and log lines produced by real ticks. */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Explanation } from "../../src/cli/commands/explain.js";
import { logTail } from "../../src/explain/history.js";
import { runMain } from "../schedule/helpers.js";
import { healThenRefuse, opsFixture, type OpsFixture } from "./ops-fixture.js";

let f: OpsFixture;
beforeEach(async () => {
  f = await opsFixture();
});
afterEach(async () => {
  await f.close();
});

const explain = (...args: string[]) => runMain(["explain", ...args, "--rules", f.rules]);
const json = async (...args: string[]): Promise<Explanation> => {
  const result = await explain(...args, "--format", "json");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Explanation;
};

/** 1-based line of the first line of services.yaml / alerts.yaml containing `text`. */
function lineOf(file: string, text: string): number {
  return (
    readFileSync(`${f.rules}/${file}`, "utf8")
      .split("\n")
      .findIndex((l) => l.includes(text)) + 1
  );
}

describe("where each value came from", () => {
  it("names the layer and file:line of every setting", async () => {
    const e = await json("web");
    const setting = (key: string) => e.settings.find((s) => s.key === key);
    const services = `${f.rules}/services.yaml`;
    const at = (text: string) => ({
      file: expect.stringMatching(/services\.yaml$/) as string,
      line: lineOf("services.yaml", text),
    });
    expect(services).toMatch(/services\.yaml$/);
    // Set on the service itself.
    expect(setting("breaker.failureThreshold")).toMatchObject({
      value: 3,
      source: { kind: "service", ...at("breaker: { failureThreshold: 3 }") },
    });
    expect(setting("probe.type")).toMatchObject({
      value: "http",
      source: { kind: "service", ...at("probe: { type: http") },
    });
    expect(setting("title")).toMatchObject({ value: 'Web "front"', source: { kind: "service" } });
    // From the defaults: block.
    expect(setting("probe.timeout")).toMatchObject({
      value: "1s",
      source: { kind: "defaults", ...at("probe: { timeout: 1s }") },
    });
    expect(setting("breaker.successThreshold")).toMatchObject({ value: 2, source: { kind: "defaults" } });
    expect(setting("heal.budget.max")).toMatchObject({
      value: 1,
      source: { kind: "defaults", ...at("budget: { max: 1") },
    });
    expect(setting("heal.cooldown")).toMatchObject({ value: "5m", source: { kind: "defaults" } });
    // Built in.
    expect(setting("heal.timeout")).toMatchObject({ value: "2m", source: { kind: "default" } });
    expect(setting("breaker.mode")).toMatchObject({ value: "consecutive", source: { kind: "default" } });
    expect(setting("dependsOn")).toMatchObject({ value: [], source: { kind: "default" } });
    // The recipe: its name, its parameter default, and each step.
    expect(setting("heal.recipe")).toMatchObject({ value: "fix", source: { kind: "service" } });
    expect(setting("heal.with.note")).toMatchObject({
      value: "hello",
      source: { kind: "recipe", name: "fix", ...at("note: { default: hello }") },
    });
    expect(e.steps.map((s) => [s.action, s.source.kind, s.source.name, s.source.line])).toEqual([
      ["test.fix", "recipe", "fix", lineOf("services.yaml", "- action: test.fix")],
      ["verify", "recipe", "fix", lineOf("services.yaml", "- action: verify")],
    ]);
    expect(e.steps[0]!.with).toEqual({ note: "hello" });
    // Alert rules that apply, their level and channels, from alerts.yaml.
    expect(e.alerts).toHaveLength(1);
    expect(e.alerts[0]).toMatchObject({
      rule: "web-down",
      level: "CRITICAL",
      source: { kind: "alerts", line: lineOf("alerts.yaml", "web-down:") },
      levelSettings: [
        {
          key: "levels.CRITICAL.threshold",
          value: 1,
          source: { kind: "alerts", line: lineOf("alerts.yaml", "CRITICAL: {") },
        },
        { key: "levels.CRITICAL.cooldown", value: "1h", source: { kind: "alerts" } },
        { key: "levels.CRITICAL.resolveAfter", value: 1, source: { kind: "default" } },
      ],
      channels: [
        {
          id: "log",
          type: "log",
          source: { kind: "alerts", line: lineOf("alerts.yaml", "log: { type: log }") },
        },
        { id: "hook", type: "webhook", source: { kind: "alerts" } },
      ],
    });
  });

  it("text: one line per setting with its origin", async () => {
    const result = await explain("web");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/breaker\.failureThreshold +3 +<- service .*services\.yaml:\d+/);
    expect(result.stdout).toMatch(/heal\.timeout +2m +<- default/);
    expect(result.stdout).toMatch(/probe\.timeout +1s +<- defaults .*services\.yaml:\d+/);
    expect(result.stdout).toMatch(/1\. test\.fix \{"note":"hello"\} +<- recipe fix .*services\.yaml:\d+/);
  });
});

describe("the heal model's settings", () => {
  const SHIPPED = fileURLToPath(new URL("../../rules/", import.meta.url));

  it("heal.after, flapping, the backoff, and an alert rule's own threshold and cooldown over its level's", async () => {
    const result = await runMain([
      "explain",
      "health-proxy",
      "--rules",
      SHIPPED,
      "--state-dir",
      join(f.root, "shipped-state"),
      "--format",
      "json",
    ]);
    expect(result.code).toBe(0);
    const e = JSON.parse(result.stdout) as Explanation;
    const setting = (key: string) => e.settings.find((s) => s.key === key);
    expect(setting("heal.after")).toMatchObject({ value: 1, source: { kind: "default" } });
    expect(setting("flapping.outages")).toMatchObject({ value: 3, source: { kind: "default" } });
    expect(setting("flapping.within")).toMatchObject({ value: "1h", source: { kind: "default" } });
    expect(setting("breaker.backoff.factor")).toMatchObject({ value: 2, source: { kind: "default" } });
    expect(setting("breaker.backoff.max")).toMatchObject({
      value: "1d",
      source: { kind: "default", note: "1d, or openFor when longer" },
    });
    // No effect any more, and not in the shipped rules: not listed.
    expect(setting("breaker.halfOpenTimeout")).toBeUndefined();
    const alertsLine = (text: string) =>
      readFileSync(join(SHIPPED, "alerts.yaml"), "utf8")
        .split("\n")
        .findIndex((l) => l.trim() === text) + 1;
    const rule = (id: string) => e.alerts.find((a) => a.rule === id);
    expect(rule("healing-gave-up")?.levelSettings).toMatchObject([
      {
        key: "rules.healing-gave-up.threshold",
        value: 1,
        source: {
          kind: "alerts",
          line: alertsLine("threshold: 1"),
          note: "instead of levels.CRITICAL.threshold 3",
        },
      },
      {
        key: "rules.healing-gave-up.cooldown",
        value: "1d",
        source: { kind: "alerts", note: "instead of levels.CRITICAL.cooldown 1h" },
      },
      { key: "levels.CRITICAL.resolveAfter", value: 1, source: { kind: "default" } },
    ]);
    expect(rule("service-down-critical")?.levelSettings.map((l) => [l.key, l.value])).toEqual([
      ["levels.CRITICAL.threshold", 3],
      ["levels.CRITICAL.cooldown", "1h"],
      ["levels.CRITICAL.resolveAfter", 1],
    ]);
    expect(rule("service-flapping")?.levelSettings.map((l) => [l.key, l.value])).toEqual([
      ["rules.service-flapping.threshold", 1],
      ["rules.service-flapping.cooldown", "1d"],
      ["levels.WARNING.resolveAfter", 1],
    ]);

    const text = (
      await runMain([
        "explain",
        "health-proxy",
        "--rules",
        SHIPPED,
        "--state-dir",
        join(f.root, "shipped-state"),
      ])
    ).stdout;
    expect(text).toMatch(/heal\.after +1 +<- default/);
    expect(text).toMatch(/breaker\.backoff\.max +1d +<- default \(1d, or openFor when longer\)/);
    expect(text).not.toContain("halfOpenTimeout");
    expect(text).not.toContain("10 x openFor");
    expect(text).toMatch(
      /rules\.healing-gave-up\.threshold 1 +<- alerts .*alerts\.yaml:\d+ \(instead of levels\.CRITICAL\.threshold 3\)/,
    );
  });

  it("set in the rules: heal.after and flapping where written, a deprecated halfOpenTimeout as having no effect", async () => {
    const rules = join(f.root, "model-rules");
    mkdirSync(rules, { recursive: true });
    const services = [
      "version: 1",
      "defaults:",
      "  breaker: { openFor: 2d, halfOpenTimeout: 10m }",
      "  flapping: { outages: 4 }",
      "services:",
      "  api:",
      "    probe: { type: tcp, port: 8080 }",
      "    flapping: { within: 30m }",
      "    heal:",
      "      after: 2",
      "      steps:",
      "        - action: verify",
      "",
    ];
    writeFileSync(join(rules, "services.yaml"), services.join("\n"));
    const result = await runMain([
      "explain",
      "api",
      "--rules",
      rules,
      "--state-dir",
      join(f.root, "model-state"),
      "--format",
      "json",
    ]);
    expect(result.code).toBe(0);
    const e = JSON.parse(result.stdout) as Explanation;
    const setting = (key: string) => e.settings.find((s) => s.key === key);
    const line = (text: string) => services.findIndex((l) => l.includes(text)) + 1;
    expect(setting("heal.after")).toMatchObject({
      value: 2,
      source: { kind: "service", line: line("after: 2") },
    });
    expect(setting("flapping.outages")).toMatchObject({
      value: 4,
      source: { kind: "defaults", line: line("outages: 4") },
    });
    expect(setting("flapping.within")).toMatchObject({ value: "30m", source: { kind: "service" } });
    expect(setting("breaker.halfOpenTimeout")).toMatchObject({
      value: "no effect (deprecated)",
      source: { kind: "defaults", line: line("halfOpenTimeout") },
    });
    // The backoff's cap is never below openFor.
    expect(setting("breaker.backoff.max")).toMatchObject({ value: "2d", source: { kind: "default" } });
  });
});

describe("recent history from real ticks", () => {
  it("status, breaker, heal history with who forced, alert states, and the log lines about it", async () => {
    await healThenRefuse(f);
    f.service.healthy = false;
    expect((await runMain(["heal", "web", "--force", "--by", "carol", "--rules", f.rules])).code).toBe(0);
    f.service.healthy = false;
    await f.tick();
    const e = await json("web", "--lines", "50");
    const h = e.history;
    expect(h).toMatchObject({
      status: "down",
      consecutiveFailures: 1,
      breaker: { state: "CLOSED", isolated: false },
    });
    expect(h.heals.totals).toEqual({ healed: 2, failed: 0 });
    expect(h.heals.history.map((r) => [r.outcome, r.forced, r.by])).toEqual([
      ["healed", false, null],
      ["healed", true, "carol"],
    ]);
    expect(h.alerts).toEqual([
      expect.objectContaining({ rule: "web-down", level: "CRITICAL", status: "firing" }),
    ]);
    const messages = h.log.map((l) => l.msg);
    expect(messages).toContain("healing web");
    expect(messages).toContain("heal succeeded");
    expect(messages).toContain("manual heal of web requested");
    expect(h.log.find((l) => l.msg === "manual heal of web requested")!.fields).toMatchObject({
      by: "carol",
      cmd: "heal",
    });
    expect(h.log.every((l) => l.time !== null && !Number.isNaN(Date.parse(l.time)))).toBe(true);

    const text = (await explain("web")).stdout;
    expect(text).toMatch(/status: down since /);
    expect(text).toContain("heals: 2 healed, 0 failed in all; budget left 0");
    expect(text).toMatch(/healed \(forced by carol\)/);
    expect(text).toMatch(/alert web-down \(CRITICAL\): firing/);
    expect(text).toContain("heal succeeded");
  });

  it("lists every gate that holds healing back, why the breaker refuses, and the true next heal", async () => {
    await healThenRefuse(f);
    const rules = ["--rules", f.rules];
    const silence = ["silence", "add", "--service", "web", "--for", "45m", "--pause-healing", ...rules];
    expect((await runMain([...silence, "--comment", "deploy"])).code).toBe(0);
    expect((await runMain(["breaker", "isolate", "web", "--until", "30m", ...rules])).code).toBe(0);
    const h = (await json("web")).history;
    expect(h.breaker).toMatchObject({ state: "OPEN", isolated: true });
    expect(h.heals.refusedBy.map((r) => [r.gate, r.why])).toEqual([
      ["breaker-open", "isolated"],
      ["paused", undefined],
      ["budget", undefined],
      ["cooldown", undefined],
    ]);
    const until = Object.fromEntries(h.heals.refusedBy.map((r) => [r.gate, Date.parse(r.until ?? "")]));
    // Isolated for 30m, paused for 45m, the budget's heal leaves the hour last: that is the next heal.
    expect(until["breaker-open"]).toBeLessThan(until["paused"]!);
    expect(until["paused"]).toBeLessThan(until["budget"]!);
    expect(until["cooldown"]).toBeLessThan(until["breaker-open"]!);
    expect(h.heals.nextAllowedAt).toBe(h.heals.refusedBy[2]?.until);

    const text = (await explain("web")).stdout;
    expect(text).toMatch(/breaker: OPEN \(isolated\) until \S+, /);
    expect(text).toMatch(
      /; held back by breaker-open until \S+, paused until \S+, budget until (\S+), cooldown until \S+; next heal allowed at \1\n/,
    );
  });

  it("with no state and no log yet: unknown status, no lines", async () => {
    const e = await json("web");
    expect(e.history).toMatchObject({ status: "unknown", since: null, log: [], alerts: [] });
    expect(e.history.heals.history).toEqual([]);
  });

  it("reads only the tail of a big log and only lines about the service", async () => {
    f.service.healthy = false;
    await f.tick();
    const filler = `${JSON.stringify({ level: "info", time: 1, service: "web", msg: "old line" })}\n`;
    const other = `${JSON.stringify({ level: "info", time: 2, service: "api", msg: "other service" })}\n`;
    const before = readFileSync(f.logFile, "utf8");
    appendFileSync(f.logFile, filler.repeat(5000) + other + "not json\n");
    appendFileSync(f.logFile, before);
    const lines = await logTail(f.logFile, "web", 1000, 4096);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(4096 / 40);
    expect(lines.every((l) => l.msg !== "other service")).toBe(true);
    expect(lines.at(-1)!.msg).toBe("heal succeeded");
    expect(await logTail(`${f.root}/missing.log`, "web", 10)).toEqual([]);
    expect(await logTail(f.logFile, "web", 0)).toEqual([]);
  });

  it("exits 2 for an unknown service or a bad --lines", async () => {
    expect((await explain("webb")).stderr).toContain('did you mean "web"');
    expect((await explain("webb")).code).toBe(2);
    expect((await explain("web", "--lines", "-1")).code).toBe(2);
    expect((await explain()).code).toBe(2);
  });
});

describe("rules that use packs (examples/packs-rules)", () => {
  it("reports pack values with the pack's name and file, overrides from services.yaml, the rest as defaults", async () => {
    const result = await runMain([
      "explain",
      "api/app",
      "--rules",
      "examples/packs-rules",
      "--state-dir",
      `${f.root}/pack-state`,
      "--format",
      "json",
    ]);
    expect(result.code).toBe(0);
    const e = JSON.parse(result.stdout) as Explanation;
    const setting = (key: string) => e.settings.find((s) => s.key === key)!;
    expect(setting("probe.type").source).toMatchObject({
      kind: "pack",
      name: "api",
      file: expect.stringMatching(/packs\/launchd-service\/services\.yaml$/) as string,
      line: expect.any(Number) as number,
    });
    expect(setting("heal.budget.max")).toMatchObject({
      value: 2,
      source: { kind: "override", file: expect.stringMatching(/packs-rules\/services\.yaml$/) as string },
    });
    expect(setting("heal.timeout").source.kind).toBe("default");
    expect(e.steps.every((s) => s.source.kind === "pack" && s.source.name === "api")).toBe(true);
  });
});
