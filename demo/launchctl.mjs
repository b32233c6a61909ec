#!/usr/bin/env node
// A stand-in `launchctl` so the launchd paths run end to end on any OS. Its "plists" are JSON files:
//   { "Label": "com.x", "ProgramArguments": ["node", "stub-service.mjs", "--port", "3002"],
//     "WorkingDirectory"?: "/dir", "EnvironmentVariables"?: { "K": "V" } }
// ("node" as the program means this Node binary). State lives in $LAUNCHCTL_STANDIN_DIR:
//   calls.log         one JSON line per invocation: {"argv": [...], "time": ISO}
//   jobs/<label>.json {"label", "plist", "pid", "program"} for each loaded job
//   logs/<label>.log  the job's stdout and stderr (so it never holds our caller's pipes open)
// Subcommands: load <plist>, unload <plist>, bootstrap <domain> <plist>, bootout <domain>/<label>
// (or bootout <domain> <plist>), kickstart [-k] <domain>/<label>, print <domain>/<label>.
// With LAUNCHCTL_STANDIN_LEGACY=1 it behaves like an old launchctl: only load/unload/list exist.
import { spawn } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  closeSync,
} from "node:fs";
import { join } from "node:path";

const dir = process.env.LAUNCHCTL_STANDIN_DIR;
if (!dir) {
  console.error("launchctl-standin: LAUNCHCTL_STANDIN_DIR is not set");
  process.exit(2);
}
const argv = process.argv.slice(2);
mkdirSync(join(dir, "jobs"), { recursive: true });
mkdirSync(join(dir, "logs"), { recursive: true });
appendFileSync(join(dir, "calls.log"), `${JSON.stringify({ argv, time: new Date().toISOString() })}\n`);

const legacy = process.env.LAUNCHCTL_STANDIN_LEGACY === "1";
const jobFile = (label) => join(dir, "jobs", `${label.replace(/[^\w.-]/g, "_")}.json`);

function fail(code, message) {
  console.error(message);
  process.exit(code);
}

function readPlist(path) {
  if (!path) fail(64, "Usage: launchctl load <plist>");
  if (!existsSync(path)) fail(1, `${path}: No such file or directory`);
  try {
    const plist = JSON.parse(readFileSync(path, "utf8"));
    if (typeof plist.Label !== "string" || !Array.isArray(plist.ProgramArguments))
      throw new Error("bad shape");
    return plist;
  } catch {
    return fail(1, `${path}: Invalid property list`);
  }
}

function readJob(label) {
  const file = jobFile(label);
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
}

/** Alive and not a zombie (a reparented orphan nobody reaps still answers kill(pid, 0)). */
function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

function start(plist, plistPath) {
  const [program, ...args] = plist.ProgramArguments;
  const log = openSync(join(dir, "logs", `${plist.Label}.log`), "a");
  const child = spawn(program === "node" ? process.execPath : program, args, {
    cwd: plist.WorkingDirectory,
    env: { ...process.env, ...(plist.EnvironmentVariables ?? {}) },
    detached: true,
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  child.on("error", (error) => {
    rmSync(jobFile(plist.Label), { force: true });
    fail(1, `${plist.Label}: ${error.message}`);
  });
  child.unref();
  writeFileSync(
    jobFile(plist.Label),
    JSON.stringify({ label: plist.Label, plist: plistPath, pid: child.pid, program: plist.ProgramArguments }),
  );
}

/** SIGTERM the job's process group, wait until it is gone (SIGKILL after 5 s). */
async function stop(job) {
  const signal = (sig) => {
    for (const target of [-job.pid, job.pid]) {
      try {
        process.kill(target, sig);
      } catch {
        // gone
      }
    }
  };
  if (alive(job.pid)) {
    signal("SIGTERM");
    for (let i = 0; i < 200 && alive(job.pid); i++) await new Promise((r) => setTimeout(r, 25));
    if (alive(job.pid)) signal("SIGKILL");
    for (let i = 0; i < 200 && alive(job.pid); i++) await new Promise((r) => setTimeout(r, 25));
  }
  rmSync(jobFile(job.label), { force: true });
}

/** `gui/501/com.x` -> { domain: "gui/501", label: "com.x" } */
function parseTarget(target) {
  const match = /^((?:gui|user)\/\d+|system)\/(.+)$/.exec(target ?? "");
  if (!match) fail(64, `Unrecognized target specifier: ${target}`);
  return { domain: match[1], label: match[2] };
}

function checkDomain(domain) {
  if (!/^((gui|user)\/\d+|system)$/.test(domain ?? "")) fail(64, `Unrecognized domain specifier: ${domain}`);
}

const [command, ...rest] = argv;
const modern = new Set(["bootstrap", "bootout", "kickstart", "print"]);
if (legacy && modern.has(command)) fail(64, `Unrecognized subcommand: ${command}`);

switch (command) {
  case "load": {
    const path = rest.filter((a) => !a.startsWith("-")).at(-1);
    const plist = readPlist(path);
    const job = readJob(plist.Label);
    if (job && alive(job.pid)) fail(0, `${path}: service already loaded`);
    start(plist, path);
    break;
  }
  case "unload": {
    const path = rest.filter((a) => !a.startsWith("-")).at(-1);
    const plist = readPlist(path);
    const job = readJob(plist.Label);
    if (!job) fail(113, `Could not find specified service`);
    await stop(job);
    break;
  }
  case "bootstrap": {
    const [domain, path] = rest;
    checkDomain(domain);
    const plist = readPlist(path);
    const job = readJob(plist.Label);
    if (job && alive(job.pid)) fail(5, "Bootstrap failed: 5: Input/output error");
    start(plist, path);
    break;
  }
  case "bootout": {
    let label;
    if (rest.length >= 2) {
      checkDomain(rest[0]);
      label = readPlist(rest[1]).Label;
    } else {
      label = parseTarget(rest[0]).label;
    }
    const job = readJob(label);
    if (!job) fail(3, "Boot-out failed: 3: No such process");
    await stop(job);
    break;
  }
  case "kickstart": {
    const flags = rest.filter((a) => a.startsWith("-"));
    const { label } = parseTarget(rest.find((a) => !a.startsWith("-")));
    const job = readJob(label);
    if (!job) fail(113, `Could not find service "${label}" in domain for port`);
    if (alive(job.pid) && !flags.includes("-k")) break;
    if (alive(job.pid)) await stop(job);
    start(readPlist(job.plist), job.plist);
    break;
  }
  case "print": {
    const { domain, label } = parseTarget(rest[0]);
    const job = readJob(label);
    if (!job) fail(113, `Could not find service "${label}" in domain for port`);
    const running = alive(job.pid);
    const lines = [
      `${domain}/${label} = {`,
      `\tactive count = ${running ? 1 : 0}`,
      `\tpath = ${job.plist}`,
      `\tstate = ${running ? "running" : "not running"}`,
      "",
      `\tprogram = ${job.program[0]}`,
      "\targuments = {",
      ...job.program.map((a) => `\t\t${a}`),
      "\t}",
      "",
      "\tendpoints = {",
      "\t\tstate = active",
      "\t}",
      ...(running ? [`\tpid = ${job.pid}`] : ["\tlast exit code = 0"]),
      "}",
    ];
    console.log(lines.join("\n"));
    break;
  }
  default:
    fail(64, `Unrecognized subcommand: ${command}`);
}
