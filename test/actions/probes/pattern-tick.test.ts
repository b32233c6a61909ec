/**
 * Issue 19, end to end: an endpoint that serves a body made to make a backtracking pattern take
 * exponential time (30 `a`s and a `!` against `^(a+)+$`) must not hold a real tick past its timeout,
 * nor delay the other services. The BUILT CLI runs one tick against a real HTTP server on 127.0.0.1
 * and a real exec probe that prints the same text.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killTree } from "../helpers.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(REPO, "bin", "upkeep.js");
const BUILT = existsSync(join(REPO, "dist", "cli", "main.js"));
const suite = BUILT ? describe : describe.skip;

const EVIL = `${"a".repeat(30)}!`;
/** Same blow-up, but the lookahead keeps V8's linear engine out: it runs on the backtracking engine. */
const EVIL_BACKTRACKING = "^(?!x)(a+)+$";

interface ServiceJson {
  readonly id: string;
  readonly status: string;
  readonly detail: string;
}

let server: Server;
let port = 0;
let root = "";
const children = new Set<ChildProcess>();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "upkeep-pattern-tick-"));
  server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(req.url === "/ok" ? "ok" : EVIL);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  port = address.port;
});

afterAll(async () => {
  for (const child of children) if (child.pid !== undefined) killTree(child.pid);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(root, { recursive: true, force: true });
});

function writeRules(dir: string, services: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "services.yaml"),
    `version: 1
runtime:
  logFile: ${JSON.stringify(join(root, "upkeep.log"))}
  tickTimeout: 5s
defaults:
  probe: { timeout: 2s }
services:
${services}
  healthy:
    probe: { type: http, url: "http://127.0.0.1:${port}/ok", expect: { bodyContains: ok } }
`,
  );
  writeFileSync(join(dir, "alerts.yaml"), "version: 1\n");
}

/** One tick of the built CLI; the child is killed when the test's own timeout ends it. */
function tick(
  rules: string,
  state: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [BIN, "run", "--rules", rules, "--state-dir", state, "--format", "json"],
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

function byId(services: readonly ServiceJson[], id: string): ServiceJson {
  const found = services.find((s) => s.id === id);
  if (found === undefined) throw new Error(`no service ${id} in the report`);
  return found;
}

suite("a pattern that backtracks exponentially (issue 19, built CLI)", () => {
  it("fails only its own probe and the tick ends within its timeout, the healthy service up", async () => {
    const rules = join(root, "rules");
    // printf from sh, not node: on a loaded CI machine a node child can take the whole probe timeout to
    // start, and the runner's deadline would then win over the pattern's own verdict.
    const print = JSON.stringify(`printf '%s' '${EVIL}'`);
    writeRules(
      rules,
      `  evil-http:
    probe: { type: http, url: "http://127.0.0.1:${port}/evil", expect: { bodyMatches: "^(a+)+$" } }
  evil-http-backtracking:
    probe: { type: http, url: "http://127.0.0.1:${port}/evil", expect: { bodyMatches: "${EVIL_BACKTRACKING}" } }
  evil-exec:
    probe: { type: exec, command: [sh, -c, ${print}], expect: { stdoutMatches: "${EVIL_BACKTRACKING}" } }
`,
    );
    const result = await tick(rules, join(root, "state"));
    let doc: { timedOut: boolean; services: ServiceJson[] };
    try {
      doc = JSON.parse(result.stdout) as typeof doc;
    } catch {
      throw new Error(`not one JSON document (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
    }
    expect(result.code).toBe(1);
    expect(doc.timedOut).toBe(false);
    expect(byId(doc.services, "healthy")).toMatchObject({ status: "up" });
    // V8's linear engine answers this one exactly: no match.
    expect(byId(doc.services, "evil-http")).toMatchObject({
      status: "down",
      detail: "body does not match /^(a+)+$/",
    });
    for (const id of ["evil-http-backtracking", "evil-exec"]) {
      expect(byId(doc.services, id).status).toBe("down");
      expect(byId(doc.services, id).detail).toMatch(/pattern \/.+\/ did not finish within \d+ms$/);
    }
  }, 30_000);
});
