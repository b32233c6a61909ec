/**
 * Start-up figures: a cold `upkeep run` against `node -e 0` and Monit's one-shot (with the Config cache
 * warm, off and cold), the history's cost on a quiet tick, and what an exec probe or exec heal step adds
 * to a tick. Each is one process per tick, as launchd and systemd start them.
 */
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { interleave } from "./loop.mjs";
import { oneShot, verifyMonit, writeMonitRc } from "./monit.mjs";
import { tcpServers, tcpService, writeRules } from "./fixtures.mjs";
import { deltaRow, minus, missingRow, ratioRow } from "./table.mjs";

const TRUE = ["/bin/true", "/usr/bin/true"].find((p) => existsSync(p)) ?? "true";

export async function cold(ctx) {
  const ports = await tcpServers(3);
  const rules = writeRules(
    join(ctx.work, "cold"),
    ports.map((p, i) => tcpService(`svc-${i}`, p)),
  );
  const run = [ctx.node.path, ctx.cli, "run", "--rules", rules];
  const cacheDir = join(ctx.env.XDG_CACHE_HOME, "upkeep");
  const commands = [
    { key: "floor", argv: [ctx.node.path, "-e", "0"] },
    { key: "run", argv: run },
    { key: "no-cache", argv: run, env: { UPKEEP_NO_CACHE: "1" } },
    { key: "cold-cache", argv: run, before: () => rmSync(cacheDir, { recursive: true, force: true }) },
  ];
  if (ctx.monit.path !== undefined) {
    const checks = ports.map((port, i) => ({ name: `svc-${i}`, port }));
    const rc = writeMonitRc(join(ctx.work, "cold-monit"), checks);
    await verifyMonit(ctx, rc, checks.length);
    commands.push({ key: "monit", argv: oneShot(ctx.monit, rc), ok: [0, 1] });
  }
  const m = await interleave(ctx, commands, ctx.rounds);
  const figure = "cold `run`, 3 healthy tcp services";
  return [
    ratioRow(figure, m.run, "node -e 0", m.floor, 1.5),
    m.monit === undefined
      ? missingRow(`${figure}, against Monit`, ctx.monit.why)
      : ratioRow(`${figure}, against Monit`, m.run, "monit one-shot", m.monit),
    ratioRow(
      "  the same, UPKEEP_NO_CACHE=1 (no Config or compile cache)",
      m["no-cache"],
      "node -e 0",
      m.floor,
      2,
    ),
    ratioRow("  the same, cache folder emptied before each run", m["cold-cache"], "node -e 0", m.floor, 2),
  ];
}

export async function history(ctx) {
  const ports = await tcpServers(3);
  const services = ports.map((p, i) => tcpService(`svc-${i}`, p));
  const on = writeRules(join(ctx.work, "history-on"), services);
  const off = writeRules(join(ctx.work, "history-off"), services, {
    runtime: ["history: { enabled: false }"],
  });
  const m = await interleave(
    ctx,
    [
      { key: "on", argv: [ctx.node.path, ctx.cli, "run", "--rules", on] },
      { key: "off", argv: [ctx.node.path, ctx.cli, "run", "--rules", off] },
    ],
    ctx.rounds,
  );
  return [ratioRow("history on, quiet healthy tick (3 tcp)", m.on, "history off", m.off, 1.1)];
}

export async function exec(ctx) {
  const dir = join(ctx.work, "exec");
  const beat = join(ctx.work, "exec-heartbeat");
  writeFileSync(beat, "x");
  const missing = join(ctx.work, "exec-missing");
  const probe = (type) =>
    type === "file"
      ? `{ type: file, path: ${JSON.stringify(beat)}, maxAge: 1h }`
      : `{ type: exec, command: [${JSON.stringify(TRUE)}] }`;
  const fileRules = writeRules(join(dir, "file"), [`  svc:\n    title: svc\n    probe: ${probe("file")}`]);
  const execRules = writeRules(join(dir, "exec"), [`  svc:\n    title: svc\n    probe: ${probe("exec")}`]);
  // Heals: a file probe that always fails, healed by one step (no verify: it would retry for 30 s); the
  // state is reset before each tick so every tick heals (no cooldown), and the history is off so no tick
  // opens SQLite to record the status change.
  const healRules = (name, step) =>
    writeRules(
      join(dir, name),
      [
        `  svc:\n    title: svc\n    probe: { type: file, path: ${JSON.stringify(missing)}, maxAge: 1h }\n` +
          `    heal:\n      steps:\n        - ${step}`,
      ],
      { runtime: ["history: { enabled: false }"] },
    );
  const execHeal = healRules(
    "heal-exec",
    `action: exec\n          with: { command: [${JSON.stringify(TRUE)}] }`,
  );
  const waitHeal = healRules("heal-wait", "action: wait\n          with: { for: 0ms }");
  const tick = (rules) => [ctx.node.path, ctx.cli, "run", "--rules", rules];
  const healed = (rules) => ({
    argv: tick(rules),
    ok: [1],
    before: () => rmSync(join(rules, "state"), { recursive: true, force: true }),
  });
  const spawnOnce = `require("node:child_process").spawn(${JSON.stringify(TRUE)}).on("exit", () => {})`;
  const m = await interleave(
    ctx,
    [
      { key: "floor", argv: [ctx.node.path, "-e", "0"] },
      { key: "spawn", argv: [ctx.node.path, "-e", spawnOnce] },
      { key: "file-probe", argv: tick(fileRules) },
      { key: "exec-probe", argv: tick(execRules) },
      { key: "wait-heal", ...healed(waitHeal) },
      { key: "exec-heal", ...healed(execHeal) },
    ],
    ctx.rounds,
  );
  const spawn = minus(m.spawn, m.floor);
  return [
    deltaRow(
      "exec probe tick, over the same tick with a file probe",
      minus(m["exec-probe"], m["file-probe"]),
      "spawn",
      spawn,
      15,
    ),
    deltaRow(
      "exec heal step tick, over the same with a wait step",
      minus(m["exec-heal"], m["wait-heal"]),
      "spawn",
      spawn,
      15,
    ),
  ];
}
