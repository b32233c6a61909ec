/**
 * The README and every page in docs/ are specifications: their YAML examples must load through the real
 * loader, their `upkeep ...` commands must exist with the flags they show, and their links must resolve.
 * Each test names the file and line of its snippet, so a failure says where to look.
 *
 * Every ```yaml block says what it is in its info string (the words after `yaml`); a block without a
 * kind, or with a kind not listed here, fails:
 *
 *   ```yaml services.yaml        a whole services.yaml: loadRules() on a temp rules folder holding it
 *   ```yaml alerts.yaml          a whole alerts.yaml, beside FIXTURE_SERVICES (ids health-proxy,
 *                                mcp-bridge, boss-api)
 *   ```yaml fragment:services    a part of services.yaml: deep-merged into FIXTURE_SERVICES (maps merge,
 *                                the fragment wins), then loaded like a whole file
 *   ```yaml fragment:alerts      a part of alerts.yaml: merged into `version: 1`, loaded beside
 *                                FIXTURE_SERVICES
 *   ```yaml test                 a rule-test file: `upkeep test FILE --rules R` must pass, R a copy of
 *                                the shipped rules/ (or of the folder named by `rules=PATH`)
 *   ```yaml pack.yaml            a pack manifest: `upkeep pack validate` (validatePack) on a folder
 *                                holding it and a services.yaml with no services
 *   ```yaml ci-steps             GitHub Actions steps: a YAML list whose `run:` commands are checked like
 *                                the lines of a ```sh block
 *
 * Options after the kind: `beside=PATH` puts the repository folder PATH next to the temp rules folder
 * under its own name, for rules that name `../packs/...` or `../redis-ping-plugin/...`;
 * `expect=CODE,...` lists the only error codes the block may produce (an example that names something
 * this machine cannot have, such as an npm package that is not installed); every one must occur.
 * Warnings are allowed (an unset `${env:NAME}` is one: the environment is empty here). In a whole
 * file, a relative `$schema` modeline must resolve from where the file lives in a rules folder
 * (services.yaml and alerts.yaml in rules/, a test file in rules/tests/) to an editor schema
 * (schemas/editor/*.json, see docs/editor.md). A fragment that is only comments adds nothing.
 *
 * Commands: every `upkeep CMD ...` in a ```sh block (each line, comments stripped), a ```console block
 * (lines starting with `$ `) or the first column of the README's Commands table must name a command of
 * src/cli/main.ts COMMANDS, and each `--flag` it shows must appear in `upkeep CMD --help` of the built
 * CLI (dist/, built by `npm run build`; the pretest script builds it when missing).
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { COMMANDS } from "../../src/cli/main.js";
import type { Diagnostic } from "../../src/config/diagnostics.js";
import { loadRules } from "../../src/config/validate.js";
import { validatePack } from "../../src/packs/standalone.js";
import { SHIPPED_RULES, upkeep } from "../testing/helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "bin", "upkeep.js");
const DOC_FILES = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`),
];

const FIXTURE_SERVICES = {
  version: 1,
  services: {
    "health-proxy": { title: "Health Proxy", probe: { type: "tcp", port: 3002 } },
    "mcp-bridge": { title: "MCP Bridge", probe: { type: "tcp", port: 3003 } },
    "boss-api": { title: "Boss API", probe: { type: "tcp", port: 4000 } },
  },
};

interface Block {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly words: readonly string[];
  readonly body: string;
  /** 1-based line of the body's first line. */
  readonly bodyLine: number;
}

function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*(.*)$/.exec(lines[i] ?? "");
    if (open === null) continue;
    const indent = open[1] ?? "";
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i] ?? ""); i++) {
      body.push(
        (lines[i] ?? "").startsWith(indent) ? (lines[i] ?? "").slice(indent.length) : (lines[i] ?? ""),
      );
    }
    const info = (open[3] ?? "").trim();
    blocks.push({
      file,
      line: start + 1,
      lang: open[2] ?? "",
      words: info === "" ? [] : info.split(/\s+/),
      body: body.join("\n"),
      bodyLine: start + 2,
    });
  }
  return blocks;
}

const ALL_BLOCKS = DOC_FILES.flatMap(blocksOf);
const YAML_BLOCKS = ALL_BLOCKS.filter((b) => b.lang === "yaml");
const KINDS = [
  "services.yaml",
  "alerts.yaml",
  "fragment:services",
  "fragment:alerts",
  "test",
  "pack.yaml",
  "ci-steps",
] as const;
type Kind = (typeof KINDS)[number];

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "upkeep-docs-test-"));
  temps.push(dir);
  return dir;
}

function option(block: Block, name: string): string | undefined {
  const word = block.words.slice(1).find((w) => w.startsWith(`${name}=`));
  return word?.slice(name.length + 1);
}

function deepMerge(base: unknown, patch: unknown): unknown {
  // A fragment that is only comments (a modeline) parses to null: it adds nothing.
  if (patch === null || patch === undefined) return structuredClone(base);
  if (!isMap(base) || !isMap(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = structuredClone(base);
  for (const [key, value] of Object.entries(patch)) out[key] = deepMerge(out[key], value);
  return out;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A temp folder holding `rules/` with these files, and the `beside=` folder next to it. */
async function rulesFolder(block: Block, files: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  const rules = join(dir, "rules");
  await mkdir(rules);
  for (const [name, text] of Object.entries(files)) await writeFile(join(rules, name), text);
  const beside = option(block, "beside");
  if (beside !== undefined) await symlink(join(ROOT, beside), join(dir, basename(beside)));
  return rules;
}

/** `file:line:column code: message` for each diagnostic, with the line mapped back into the document. */
function show(block: Block, diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => {
    const own = basename(d.file) === fileOfKind(block);
    const where = own ? `${block.file}:${block.bodyLine + d.line - 1}` : `${d.file}:${d.line}`;
    return `${where}:${d.column} ${d.severity} ${d.code}: ${d.message}`;
  });
}

function fileOfKind(block: Block): string {
  const kind = block.words[0] ?? "";
  if (kind === "alerts.yaml" || kind === "fragment:alerts") return "alerts.yaml";
  if (kind === "pack.yaml") return "pack.yaml";
  return "services.yaml";
}

function expectOnlyListedErrors(block: Block, diagnostics: readonly Diagnostic[]): void {
  const allowed = (option(block, "expect") ?? "").split(",").filter((c) => c !== "");
  const errors = diagnostics.filter((d) => d.severity === "error");
  const unexpected = errors.filter((d) => !allowed.includes(d.code));
  expect(show(block, unexpected), `errors of ${block.file}:${block.line}`).toEqual([]);
  for (const code of allowed) {
    expect(
      errors.map((d) => d.code),
      `${block.file}:${block.line} expect=${code}: drop it from the info string when it no longer occurs`,
    ).toContain(code);
  }
}

function checkModeline(block: Block, home: string): void {
  const modeline = /^# yaml-language-server: \$schema=(\S+)/m.exec(block.body);
  if (modeline === null) return;
  const target = modeline[1] ?? "";
  if (/^[a-z]+:/i.test(target) || target.startsWith("/")) return;
  expect(
    target.endsWith(".schema.json"),
    `${block.file}:${block.line}: $schema=${target}: editors need schemas/editor/*.json (docs/editor.md)`,
  ).toBe(false);
  expect(
    existsSync(resolve(ROOT, home, target)),
    `${block.file}:${block.line}: $schema=${target} resolves from ${home}/ to an existing schema`,
  ).toBe(true);
}

async function validateBlock(block: Block): Promise<void> {
  const kind = (block.words[0] ?? "") as Kind;
  const doc: unknown = parse(block.body, { uniqueKeys: true });
  switch (kind) {
    case "services.yaml":
    case "fragment:services": {
      if (kind === "services.yaml") checkModeline(block, "rules");
      const services = kind === "services.yaml" ? block.body : stringify(deepMerge(FIXTURE_SERVICES, doc));
      const rules = await rulesFolder(block, { "services.yaml": services });
      expectOnlyListedErrors(block, (await loadRules(rules, { env: {} })).diagnostics);
      return;
    }
    case "alerts.yaml":
    case "fragment:alerts": {
      if (kind === "alerts.yaml") checkModeline(block, "rules");
      const alerts = kind === "alerts.yaml" ? block.body : stringify(deepMerge({ version: 1 }, doc));
      const rules = await rulesFolder(block, {
        "services.yaml": stringify(FIXTURE_SERVICES),
        "alerts.yaml": alerts,
      });
      expectOnlyListedErrors(block, (await loadRules(rules, { env: {} })).diagnostics);
      return;
    }
    case "pack.yaml": {
      const dir = await tempDir();
      await writeFile(join(dir, "pack.yaml"), block.body);
      await writeFile(join(dir, "services.yaml"), "version: 1\nservices: {}\n");
      expectOnlyListedErrors(block, (await validatePack(dir)).diagnostics);
      return;
    }
    case "test": {
      checkModeline(block, "rules/tests");
      const dir = await tempDir();
      const rules = join(dir, "rules");
      await cp(resolve(ROOT, option(block, "rules") ?? SHIPPED_RULES), rules, { recursive: true });
      await mkdir(join(rules, "tests"), { recursive: true });
      const file = join(rules, "tests", "from-docs.test.yaml");
      await writeFile(file, block.body);
      const { code, stdout, stderr } = await upkeep("test", file, "--rules", rules, "--no-packs");
      expect({ code, stderr }, `${block.file}:${block.line}: upkeep test\n${stdout}`).toEqual({
        code: 0,
        stderr: "",
      });
      return;
    }
    case "ci-steps": {
      expect(Array.isArray(doc), `${block.file}:${block.line}: a list of steps`).toBe(true);
      for (const step of doc as unknown[]) {
        const run = isMap(step) ? step["run"] : undefined;
        if (typeof run !== "string") continue;
        for (const command of upkeepCommands(run)) await checkCommand(block.file, block.line, command);
      }
      return;
    }
    default:
      throw new Error(
        `${block.file}:${block.line}: a yaml block must say what it is after "yaml": one of ${KINDS.join(", ")} (got "${block.words.join(" ")}")`,
      );
  }
}

// --- commands -------------------------------------------------------------------------------------

const execFileP = promisify(execFile);
const helpCache = new Map<string, Promise<string>>();

/** `upkeep CMD --help` of the built CLI (stdout and stderr: some commands print usage to either). */
function helpOf(command: string): Promise<string> {
  let help = helpCache.get(command);
  if (help === undefined) {
    const args = command === "" ? [CLI, "--help"] : [CLI, command, "--help"];
    help = execFileP(process.execPath, args, { cwd: ROOT, timeout: 20_000 }).then(
      (r) => `${r.stdout}${r.stderr}`,
    );
    helpCache.set(command, help);
  }
  return help;
}

interface Shown {
  readonly text: string;
  readonly command: string;
  readonly flags: readonly string[];
}

/** The `upkeep ...` invocations in one shell line (`npx upkeep`, `node bin/upkeep.js` included). */
function upkeepCommands(line: string): Shown[] {
  const out: Shown[] = [];
  for (const segment of line.split(/\|\||&&|;|\s\|\s/)) {
    const match = /(?:^|\s)(?:upkeep|\S*bin\/upkeep\.js)(?:\s+(.*))?$/.exec(segment);
    if (match === null) continue;
    const rest = (match[1] ?? "").trim();
    const first = rest.split(/\s+/)[0] ?? "";
    const command = first.startsWith("-") ? "" : first;
    const flags = [...rest.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]);
    out.push({ text: `upkeep ${rest}`, command, flags });
  }
  return out;
}

async function checkCommand(file: string, line: number, shown: Shown): Promise<void> {
  const where = `${file}:${line}: ${shown.text}`;
  if (shown.command !== "") {
    expect(Object.keys(COMMANDS), `${where}: "${shown.command}" is a command of upkeep`).toContain(
      shown.command,
    );
  }
  if (shown.command === "") {
    // `upkeep --version`, `upkeep --help`: options of upkeep itself, which the usage text does not list.
    const args = shown.text.split(/\s+/).slice(1);
    const run = await execFileP(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 20_000 }).then(
      () => 0,
      (error: { code?: number }) => error.code ?? 1,
    );
    expect(run, `${where}: exits 0`).toBe(0);
    return;
  }
  const help = await helpOf(shown.command);
  for (const flag of shown.flags) {
    const known = new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(help);
    expect(known, `${where}: ${flag} appears in \`upkeep ${shown.command} --help\``).toBe(true);
  }
}

interface CommandLine {
  readonly file: string;
  readonly line: number;
  readonly shown: Shown;
}

function stripComment(line: string): string {
  return line.replace(/(^|\s)#.*$/, "").trimEnd();
}

function shellCommandLines(): CommandLine[] {
  const out: CommandLine[] = [];
  for (const block of ALL_BLOCKS) {
    if (block.lang !== "sh" && block.lang !== "console") continue;
    block.body.split("\n").forEach((text, i) => {
      const command = block.lang === "console" ? (/^\$ (.*)$/.exec(text)?.[1] ?? "") : stripComment(text);
      for (const shown of upkeepCommands(command))
        out.push({ file: block.file, line: block.bodyLine + i, shown });
    });
  }
  return out;
}

/** The first column of the README's Commands table: `upkeep CMD ...` in backticks, `\|` for `|`. */
function commandTableLines(): CommandLine[] {
  const lines = readFileSync(join(ROOT, "README.md"), "utf8").split("\n");
  const start = lines.findIndex((l) => l === "## Commands");
  const out: CommandLine[] = [];
  for (let i = start + 1; i < lines.length && !lines[i]?.startsWith("## "); i++) {
    const row = lines[i] ?? "";
    if (!row.startsWith("| `upkeep")) continue;
    const cell = row.split(/(?<!\\)\|/)[1] ?? "";
    for (const m of cell.matchAll(/`(upkeep [^`]*)`/g)) {
      for (const shown of upkeepCommands((m[1] ?? "").replace(/\\\|/g, "|"))) {
        out.push({ file: "README.md", line: i + 1, shown });
      }
    }
  }
  return out;
}

// --- links ----------------------------------------------------------------------------------------

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, -1, -2 for repeats. */
function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fence = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (/^\s*```/.test(line)) fence = !fence;
    const heading = fence ? null : /^#{1,6} (.*)$/.exec(line);
    if (heading === null) continue;
    const slug = (heading[1] ?? "")
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

interface Link {
  readonly file: string;
  readonly line: number;
  readonly target: string;
}

function linksOf(file: string): Link[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  // Code blocks are not prose: blank them out, keeping line numbers.
  const prose = text.replace(/^\s*```[\s\S]*?^\s*```\s*$/gm, (block) => block.replace(/[^\n]/g, " "));
  const out: Link[] = [];
  for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const line = prose.slice(0, m.index).split("\n").length;
    out.push({ file, line, target: m[1] ?? "" });
  }
  return out;
}

// --- the tests --------------------------------------------------------------------------------------

describe("docs: yaml examples load through the real loader", () => {
  it("finds the yaml examples of README.md and docs/", () => {
    expect(YAML_BLOCKS.length).toBeGreaterThan(10);
  });
  for (const block of YAML_BLOCKS) {
    it(`${block.file}:${block.line} yaml ${block.words.join(" ")}`, async () => {
      await validateBlock(block);
    });
  }
});

describe("docs: upkeep commands exist with the flags they show", () => {
  const lines = [...shellCommandLines(), ...commandTableLines()];
  it("finds the commands of README.md and docs/", () => {
    expect(lines.length).toBeGreaterThan(20);
    expect(commandTableLines().length).toBeGreaterThanOrEqual(Object.keys(COMMANDS).length);
  });
  for (const { file, line, shown } of lines) {
    it(`${file}:${line} ${shown.text}`, async () => {
      await checkCommand(file, line, shown);
    });
  }
  it("README.md Commands table lists every command of the CLI", () => {
    const listed = new Set(commandTableLines().map((l) => l.shown.command));
    expect(Object.keys(COMMANDS).filter((name) => !listed.has(name))).toEqual([]);
  });
});

describe("docs: README quick start", () => {
  it("README.md quick start is exactly `npm ci && npm start` and `npm test`", () => {
    const quick = ALL_BLOCKS.find((b) => b.file === "README.md" && b.lang === "sh");
    const lines = readFileSync(join(ROOT, "README.md"), "utf8").split("\n");
    const heading = lines.indexOf("## Quick start") + 1;
    expect(heading, "README.md has a ## Quick start").toBeGreaterThan(0);
    expect(quick?.line, `README.md:${quick?.line}: the first sh block is the quick start's`).toBeGreaterThan(
      heading,
    );
    const commands = (quick?.body ?? "")
      .split("\n")
      .map(stripComment)
      .map((l) => l.trim())
      .filter((l) => l !== "");
    expect(commands, `README.md:${quick?.line}`).toEqual(["npm ci && npm start", "npm test"]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts["start"]).toBe("node bin/upkeep.js demo");
    expect(pkg.scripts["test"]).toMatch(/^vitest run\b/);
  });
});

describe("docs: links resolve", () => {
  const links = DOC_FILES.flatMap(linksOf).filter((l) => !/^[a-z]+:/i.test(l.target));
  it("finds the links of README.md and docs/", () => {
    expect(links.length).toBeGreaterThan(10);
  });
  for (const link of links) {
    it(`${link.file}:${link.line} (${link.target})`, () => {
      const [path = "", anchor] = link.target.split("#");
      const target = path === "" ? join(ROOT, link.file) : resolve(dirname(join(ROOT, link.file)), path);
      expect(existsSync(target), `${relative(ROOT, target)} exists`).toBe(true);
      if (anchor !== undefined) {
        expect([...anchorsOf(target)], `#${anchor} is a heading of ${relative(ROOT, target)}`).toContain(
          anchor,
        );
      }
    });
  }
});
