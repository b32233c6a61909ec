/** The metrics file written by real ticks (`runtime.metrics.file`), parsed and checked value by value. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseProm, valueOf, type Parsed } from "../runtime/prom.js";
import { runMain } from "../schedule/helpers.js";
import { healThenRefuse, opsFixture, type OpsFixture } from "./ops-fixture.js";

let f: OpsFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const read = (fx: OpsFixture): Parsed => parseProm(readFileSync(fx.metricsFile, "utf8"));

describe("metrics from real ticks", () => {
  it("each tick rewrites the file: up, latency, breaker, heals_total, alerts firing, tick time", async () => {
    const fx = (f = await opsFixture());
    const before = Date.now();
    await fx.tick();
    let p = read(fx);
    expect(valueOf(p, "upkeep_service_up", { service: "web", title: 'Web "front"' })).toBe(1);
    expect(valueOf(p, "upkeep_probe_latency_seconds", { service: "web" })).toBeGreaterThanOrEqual(0);
    expect(valueOf(p, "upkeep_breaker_state", { service: "web", state: "CLOSED" })).toBe(1);
    expect(valueOf(p, "upkeep_heals_total", { service: "web", outcome: "healed" })).toBe(0);
    expect(valueOf(p, "upkeep_alerts_firing", { service: "web", rule: "web-down", level: "CRITICAL" })).toBe(
      0,
    );
    const last = valueOf(p, "upkeep_last_tick_timestamp_seconds")!;
    expect(last * 1000).toBeGreaterThanOrEqual(before);
    expect(last * 1000).toBeLessThanOrEqual(Date.now());
    expect(valueOf(p, "upkeep_tick_duration_seconds")).toBeGreaterThanOrEqual(0);

    await healThenRefuse(fx);
    p = read(fx);
    expect(valueOf(p, "upkeep_service_up", { service: "web" })).toBe(0);
    expect(valueOf(p, "upkeep_heals_total", { service: "web", outcome: "healed" })).toBe(1);
    expect(valueOf(p, "upkeep_alerts_firing", { service: "web", rule: "web-down" })).toBe(1);

    // A forced manual heal goes through the same session: the counter goes on from state.
    fx.service.healthy = false;
    expect((await runMain(["heal", "web", "--force", "--by", "dave", "--rules", fx.rules])).code).toBe(0);
    p = read(fx);
    expect(valueOf(p, "upkeep_service_up", { service: "web" })).toBe(1);
    expect(valueOf(p, "upkeep_heals_total", { service: "web", outcome: "healed" })).toBe(2);
    expect(valueOf(p, "upkeep_heals_total", { service: "web", outcome: "failed" })).toBe(0);
    expect(readdirSync(dirname(fx.metricsFile))).toEqual(["upkeep.prom"]);
  });

  it("the breaker gauge follows the breaker (isolated = OPEN)", async () => {
    const fx = (f = await opsFixture());
    expect((await runMain(["breaker", "isolate", "web", "--rules", fx.rules])).code).toBe(0);
    await fx.tick();
    const p = read(fx);
    expect(valueOf(p, "upkeep_breaker_state", { service: "web", state: "OPEN" })).toBe(1);
    expect(valueOf(p, "upkeep_breaker_state", { service: "web", state: "CLOSED" })).toBe(0);
  });

  it("dry runs write nothing, and without runtime.metrics there is no file", async () => {
    const fx = (f = await opsFixture());
    expect((await runMain(["plan", "--rules", fx.rules])).code).toBe(0);
    expect(existsSync(fx.metricsFile)).toBe(false);
    await f.close();
    const plain = (f = await opsFixture({ metrics: false }));
    await plain.tick();
    expect(existsSync(dirname(plain.metricsFile))).toBe(false);
  });

  it("validate rejects a metrics file without the .prom suffix", async () => {
    const fx = (f = await opsFixture());
    const { writeFileSync } = await import("node:fs");
    const file = `${fx.rules}/services.yaml`;
    writeFileSync(file, readFileSync(file, "utf8").replace("upkeep.prom", "upkeep.txt"));
    const result = await runMain(["validate", "--rules", fx.rules, "--format", "json"]);
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout) as { diagnostics: { pointer: string }[] };
    expect(doc.diagnostics.map((d) => d.pointer)).toContain("/runtime/metrics/file");
  });
});
