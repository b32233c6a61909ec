/**
 * `upkeep test` (and the tick flow it shares with `upkeep run`) grows linearly with the services: no
 * clock, a count of how often the rules' services list is read. Rules with 2N services must cost about
 * twice the reads of rules with N, where a scan of every service for each service (a lookup by id
 * with `find`, a check with `some`) costs four times as many.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/config/model.js";
import { loadRules } from "../../src/config/validate.js";
import { runTestText } from "../../src/testing/runner.js";
import { countingArray, growth, LINEAR } from "../core/op-count.js";

const GROUP = 10;
const TICKS = 12;
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** N services in groups of ten, nine depending on the first (the head); every head heals. */
async function rulesWith(n: number): Promise<Config> {
  const dir = await mkdtemp(join(tmpdir(), "upkeep-scale-"));
  dirs.push(dir);
  const services = Array.from({ length: n }, (_, i) => {
    const head = i - (i % GROUP);
    return [
      `  svc-${i}:`,
      `    probe: { type: tcp, host: 127.0.0.1, port: ${3000 + (i % 100)} }`,
      ...(i === head ? [] : [`    dependsOn: [svc-${head}]`]),
      "    heal: { steps: [{ action: wait, with: { for: 1s } }, { action: verify }] }",
    ].join("\n");
  });
  await writeFile(join(dir, "services.yaml"), `version: 1\nservices:\n${services.join("\n")}\n`);
  await writeFile(
    join(dir, "alerts.yaml"),
    [
      "version: 1",
      "channels: { log: { type: log } }",
      "levels: { CRITICAL: { threshold: 2, cooldown: 1h, channels: [log] } }",
      'rules: { down: { level: CRITICAL, when: { "==": [{ var: status }, "down"] } } }',
      "",
    ].join("\n"),
  );
  const { config } = await loadRules(dir, { env: {} });
  if (config === undefined) throw new Error("the generated rules do not load");
  return config;
}

/**
 * Every service down at ticks 3-5: each head's heal fails twice and holds the third time, its nine
 * dependents are blocked meanwhile and re-probed after that heal, up again; every service's status,
 * heal and breaker are expected.
 */
function testFile(n: number): string {
  const ids = Array.from({ length: n }, (_, i) => `svc-${i}`);
  const heads = ids.filter((_, i) => i % GROUP === 0);
  const map = (value: (id: string) => string): string =>
    `{ ${ids.map((id) => `${id}: ${value(id)}`).join(", ")} }`;
  const headsOnly = (value: string, rest: string) => (id: string) => (heads.includes(id) ? value : rest);
  return [
    "version: 1",
    "tests:",
    "  many:",
    `    ticks: ${TICKS}`,
    "    services:",
    ...ids.map((id) => `      ${id}: "up x2, down x3, up"`),
    "    expect:",
    "      - at: 1",
    `        status: ${map(() => "up")}`,
    "      - at: 3",
    `        status: ${map(headsOnly("down", "blocked"))}`,
    `        heals: ${map(headsOnly("failed", "skipped"))}`,
    "      - at: 5",
    `        status: ${map(() => "up")}`,
    `        heals: ${map(headsOnly("healed", "none"))}`,
    `      - at: ${TICKS}`,
    `        status: ${map(() => "up")}`,
    `        breaker: ${map(() => "CLOSED")}`,
    "",
  ].join("\n");
}

describe("rule tests at scale (read counts, no clock)", () => {
  it("read the services list about twice as often for twice the services", async () => {
    const ratio = await growth(200, async (n) => {
      const rules = await rulesWith(n);
      const counter = { reads: 0 };
      const config: Config = { ...rules, services: countingArray(rules.services, counter) };
      const run = await runTestText(testFile(n), "scale.test.yaml", config);
      expect(run.files[0]?.diagnostics).toEqual([]);
      expect(run.files[0]?.tests[0]?.failures).toEqual([]);
      expect(run.exitCode).toBe(0);
      // Every head healed at ticks 3, 4 and 5 (the first two failed): the heal path ran.
      expect(run.files[0]?.tests[0]?.counts.heals).toEqual({
        attempted: (3 * n) / GROUP,
        healed: n / GROUP,
        failed: (2 * n) / GROUP,
      });
      return counter.reads;
    });
    expect(ratio).toBeLessThan(LINEAR);
  });
});
