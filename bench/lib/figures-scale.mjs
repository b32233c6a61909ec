/**
 * Figures over many services: one tick over 1,000 and 5,000 healthy tcp services against Monit's
 * one-shot on the same services (and whether the tick grows linearly), 100 services that accept and
 * never answer, and `validate` of 5,000 services against `monit -t` of the same 5,000 checks.
 * Shipped settings throughout: no concurrency override.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { interleave } from "./loop.mjs";
import { oneShot, syntaxCheck, verifyMonit, writeMonitRc } from "./monit.mjs";
import { hangingServer, poolPorts, tcpService, validateRules, writeRules } from "./fixtures.mjs";
import { ms, ratioRow } from "./table.mjs";

const count = (n) => n.toLocaleString("en-US");

export async function scale(ctx) {
  const sizes = ctx.quick ? [200, 1000] : [1000, 5000];
  const ports = await poolPorts(Math.max(...sizes));
  const tick = (rules) => [ctx.node.path, ctx.cli, "run", "--rules", rules];
  const small = writeRules(
    join(ctx.work, "scale-3"),
    ports.slice(0, 3).map((p, i) => tcpService(`svc-${i}`, p)),
  );
  const commands = [{ key: "run-3", argv: tick(small) }];
  for (const n of sizes) {
    const own = ports.slice(0, n);
    const rules = writeRules(
      join(ctx.work, `scale-${n}`),
      own.map((p, i) => tcpService(`svc-${i}`, p)),
    );
    commands.push({ key: `run-${n}`, argv: tick(rules) });
    if (ctx.monit.path !== undefined) {
      const checks = own.map((port, i) => ({ name: `svc-${i}`, port }));
      const rc = writeMonitRc(join(ctx.work, `scale-monit-${n}`), checks);
      await verifyMonit(ctx, rc, n);
      commands.push({ key: `monit-${n}`, argv: oneShot(ctx.monit, rc), ok: [0, 1], timeoutMs: 300_000 });
    }
  }
  // The warm-up round is each rules folder's first tick (it records every service's first status).
  const m = await interleave(ctx, commands, ctx.quick ? 2 : 5);
  const rows = sizes.map((n) => {
    const figure = `one tick over ${count(n)} healthy tcp services`;
    if (m[`monit-${n}`] !== undefined)
      return ratioRow(figure, m[`run-${n}`], "monit one-shot", m[`monit-${n}`], 2);
    return {
      figure,
      value: ms(m[`run-${n}`]),
      reference: ctx.monit.why,
      ratio: "-",
      goal: "<= 2x",
      met: undefined,
    };
  });
  // Linear: what one more service costs between the two sizes, against what it costs from 3 up to the
  // first size (whole processes, so the fixed start-up cancels out). CPU time when measured.
  const [a, b] = sizes;
  const use = Number.isFinite(m["run-3"].cpu) ? "cpu" : "wall";
  const low = (m[`run-${a}`][use] - m["run-3"][use]) / (a - 3);
  const high = (m[`run-${b}`][use] - m[`run-${a}`][use]) / (b - a);
  const us = (x) => `${(x * 1000).toFixed(0)} us/svc`;
  rows.push({
    figure: `  linear: ${use} per service, ${count(a)}->${count(b)} over 3->${count(a)}`,
    value: us(high),
    reference: `3->${count(a)}: ${us(low)}`,
    ratio: `${(high / low).toFixed(2)}x`,
    goal: "<= 1.25x",
    met: high / low <= 1.25,
  });
  return rows;
}

export async function hung(ctx) {
  const port = await hangingServer();
  const services = Array.from(
    { length: 100 },
    (_, i) =>
      `  hung-${i}:\n    title: hung-${i}\n    probe: { type: http, url: "http://127.0.0.1:${port}/health", timeout: 2s }`,
  );
  const rules = writeRules(join(ctx.work, "hung"), services);
  const everyOneTimedOut = (out) => {
    const doc = JSON.parse(readFileSync(out, "utf8"));
    const other = doc.services.filter((s) => s.status !== "down" || !/time/.test(s.detail ?? ""));
    return doc.services.length === 100 && other.length === 0
      ? undefined
      : `expected 100 services down on their timeout, got ${JSON.stringify(other.slice(0, 2))}`;
  };
  const m = await interleave(
    ctx,
    [
      {
        key: "hung",
        argv: [ctx.node.path, ctx.cli, "run", "--format", "json", "--rules", rules],
        ok: [1],
        check: everyOneTimedOut,
      },
    ],
    ctx.quick ? 1 : 3,
  );
  const ratio = m.hung.wall / 2000;
  return [
    {
      figure: "100 services that never answer, 2 s timeout (cold run)",
      value: ms(m.hung),
      reference: "one probe timeout 2000 ms",
      ratio: `${ratio.toFixed(2)}x`,
      goal: "<= 1.3x",
      met: ratio <= 1.3,
    },
  ];
}

export async function validate(ctx) {
  const n = 5000;
  const { services, alerts, checks } = validateRules(n);
  const rules = join(ctx.work, "validate");
  mkdirSync(rules, { recursive: true });
  writeFileSync(join(rules, "services.yaml"), services);
  writeFileSync(join(rules, "alerts.yaml"), alerts);
  const commands = [
    {
      key: "validate",
      argv: [ctx.node.path, ctx.cli, "validate", "--format", "json", "--rules", rules],
      check: (out) =>
        JSON.parse(readFileSync(out, "utf8")).valid === true ? undefined : "the rules are not valid",
    },
  ];
  if (ctx.monit.path !== undefined) {
    const rc = writeMonitRc(join(ctx.work, "validate-monit"), checks);
    commands.push({ key: "monit", argv: syntaxCheck(ctx.monit, rc) });
  }
  const m = await interleave(ctx, commands, ctx.quick ? 2 : 5);
  const v = m.validate;
  return [
    {
      figure: `\`validate\` of ${count(n)} services (cold process)`,
      value: ms(v),
      reference: m.monit === undefined ? ctx.monit.why : `monit -t ${ms(m.monit)}`,
      ratio: m.monit === undefined ? "-" : `${(v.wall / m.monit.wall).toFixed(1)}x`,
      goal: "< 1000 ms",
      met: v.wall < 1000,
      metCpu: Number.isFinite(v.cpu) ? v.cpu < 1000 : undefined,
    },
  ];
}
