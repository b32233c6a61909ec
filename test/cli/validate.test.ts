import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";

const SHIPPED = fileURLToPath(new URL("../../rules/", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../fixtures/rules/", import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function upkeep(...argv: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

let work = "";
let shippedServices = "";

/** The shipped services.yaml, edited, in a dir of its own (alerts.yaml is optional); a cwd-relative path. */
async function edited(name: string, edit: (text: string) => string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  const text = edit(shippedServices);
  expect(text).not.toBe(shippedServices);
  await writeFile(join(dir, "services.yaml"), text);
  return relative(process.cwd(), dir);
}

/** 1-based line and column of `needle` in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const index = text.indexOf(needle);
  expect(index).toBeGreaterThanOrEqual(0);
  const before = text.slice(0, index).split("\n");
  return { line: before.length, column: (before[before.length - 1] ?? "").length + 1 };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "upkeep-cli-validate-"));
  shippedServices = await readFile(join(SHIPPED, "services.yaml"), "utf8");
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
beforeEach(() => {
  // CI may run on GitHub Actions, which would switch the default format.
  vi.stubEnv("GITHUB_ACTIONS", "");
  vi.stubEnv("DISCORD_WEBHOOK_URL", "https://discord.invalid/api/webhooks/x");
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("upkeep validate", () => {
  it("accepts the shipped rules: exit 0", async () => {
    const run = await upkeep("validate", "--rules", SHIPPED);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("rules are valid\n");
    expect(run.code).toBe(0);
  });

  it("without the Discord webhook variable: a warning, still exit 0; an error with --require-env", async () => {
    vi.stubEnv("DISCORD_WEBHOOK_URL", undefined);
    const run = await upkeep("validate", "--rules", SHIPPED, "--format", "json");
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as {
      valid: boolean;
      diagnostics: { code: string; severity: string }[];
    };
    expect(doc.valid).toBe(true);
    expect(doc.diagnostics.map((d) => [d.code, d.severity])).toEqual([["env-unset", "warning"]]);
    const strict = await upkeep("validate", "--rules", SHIPPED, "--require-env", "--format", "json");
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout)).toMatchObject({
      valid: false,
      diagnostics: [{ code: "env-unset", severity: "error" }],
    });
  });

  it("an unknown key inserted under a service: exit 1 at its line and column, with a hint", async () => {
    const dir = await edited("unknown-key", (t) =>
      t.replace("    title: MCP Bridge\n", "    title: MCP Bridge\n    prob: { type: tcp }\n"),
    );
    const run = await upkeep("validate", "--rules", dir);
    expect(run.code).toBe(1);
    const text = await readFile(join(dir, "services.yaml"), "utf8");
    const { line, column } = positionOf(text, "prob: { type: tcp }");
    expect(column).toBe(5);
    const file = join(dir, "services.yaml");
    expect(run.stdout).toBe(
      [
        `${file}:${line}:${column} error unknown-key: unknown key "prob"`,
        ` ${line} |     prob: { type: tcp }`,
        ` ${" ".repeat(String(line).length)} |     ^`,
        '  hint: did you mean "probe"?',
        "",
        "1 error, 0 warnings",
        "",
      ].join("\n"),
    );
    expect(run.stderr).toBe("");
  });

  it("a misspelled action: exit 1 at the action, hint naming the right one", async () => {
    const dir = await edited("misspelled", (t) => t.replace("action: launchd.load", "action: launchd.laod"));
    const run = await upkeep("validate", "--rules", dir, "--format", "json");
    expect(run.code).toBe(1);
    const text = await readFile(join(dir, "services.yaml"), "utf8");
    const at = positionOf(text, "launchd.laod");
    expect(JSON.parse(run.stdout)).toEqual({
      valid: false,
      diagnostics: [
        {
          severity: "error",
          code: "unknown-action",
          message: 'unknown action "launchd.laod"',
          file: join(dir, "services.yaml"),
          line: at.line,
          column: at.column,
          pointer: "/recipes/launchd-restart/steps/2/action",
          hint: 'did you mean "launchd.load"?',
        },
      ],
    });
  });

  it("a YAML syntax error: exit 1 at the line and column the parser stopped, with a hint at the cause", async () => {
    const dir = await edited("syntax", (t) =>
      t.replace(
        "probe: { type: tcp, host: 127.0.0.1, port: 3003 }",
        "probe: { type: tcp, host: 127.0.0.1, port: 3003",
      ),
    );
    const run = await upkeep("validate", "--rules", dir, "--format", "json");
    expect(run.code).toBe(1);
    const text = await readFile(join(dir, "services.yaml"), "utf8");
    const open = positionOf(text, "probe: { type: tcp, host: 127.0.0.1, port: 3003\n");
    const doc = JSON.parse(run.stdout) as { diagnostics: Record<string, unknown>[] };
    expect(doc.diagnostics).toEqual([
      {
        severity: "error",
        code: "yaml-syntax",
        message: "Flow map in block collection must be sufficiently indented and end with a }",
        file: join(dir, "services.yaml"),
        line: open.line + 1,
        column: 5,
        pointer: "",
        hint: `the "{" on line ${open.line} is not closed: add "}" at the end of that line`,
      },
    ]);
  });

  it("a dependency cycle: exit 1 at the dependsOn entry that closes it", async () => {
    const dir = await edited("cycle", (t) =>
      t
        .replace("    title: Health Proxy\n", "    title: Health Proxy\n    dependsOn: [boss-api]\n")
        .replace("    title: Boss API\n", "    title: Boss API\n    dependsOn: [mcp-bridge, health-proxy]\n"),
    );
    const run = await upkeep("validate", "--rules", dir, "--format", "json");
    expect(run.code).toBe(1);
    const text = await readFile(join(dir, "services.yaml"), "utf8");
    const at = positionOf(text, "health-proxy]");
    expect(JSON.parse(run.stdout)).toMatchObject({
      valid: false,
      diagnostics: [
        {
          code: "dependency-cycle",
          message: "dependency cycle: health-proxy -> boss-api -> health-proxy",
          line: at.line,
          column: at.column,
          pointer: "/services/boss-api/dependsOn/1",
        },
      ],
    });
  });

  it("--format json: exactly the DESIGN.md contract", async () => {
    const run = await upkeep("validate", "--rules", join(FIXTURES, "unknown-key"), "--format", "json");
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout) as { valid: unknown; diagnostics: Record<string, unknown>[] };
    expect(Object.keys(doc)).toEqual(["valid", "diagnostics"]);
    expect(doc.valid).toBe(false);
    expect(Object.keys(doc.diagnostics[0] ?? {})).toEqual([
      "severity",
      "code",
      "message",
      "file",
      "line",
      "column",
      "pointer",
      "hint",
    ]);
    const valid = await upkeep("validate", "--rules", join(FIXTURES, "valid"), "--format", "json");
    expect(valid.code).toBe(0);
    expect(JSON.parse(valid.stdout)).toEqual({ valid: true, diagnostics: [] });
  });

  it("--format github: one workflow command per diagnostic, chosen by default under GitHub Actions", async () => {
    vi.stubEnv("GITHUB_ACTIONS", "true");
    const dir = join(FIXTURES, "unknown-key");
    const run = await upkeep("validate", "--rules", dir);
    expect(run.code).toBe(1);
    const file = join(dir, "services.yaml").replaceAll(":", "%3A").replaceAll(",", "%2C");
    expect(run.stdout).toBe(
      `::error file=${file},line=4,col=5,title=unknown-key::unknown key "titel"%0Ahint: did you mean "title"?\n`,
    );
    expect(run.stderr).toBe("upkeep validate: 1 error, 0 warnings\n");
    const warning = await upkeep(
      "validate",
      "--rules",
      join(FIXTURES, "missing-verify"),
      "--format",
      "github",
    );
    expect(warning.code).toBe(0);
    expect(warning.stdout).toMatch(
      /^::warning file=[^,]+,line=7,col=19,title=missing-verify::the heal steps/,
    );
  });

  it("--format sarif: a SARIF 2.1.0 log with rules for the codes used and located results", async () => {
    const run = await upkeep("validate", "--rules", join(FIXTURES, "dependency-cycle"), "--format", "sarif");
    expect(run.code).toBe(1);
    const log = JSON.parse(run.stdout) as {
      version: string;
      $schema: string;
      runs: {
        tool: {
          driver: {
            name: string;
            version: string;
            rules: { id: string; shortDescription: { text: string } }[];
          };
        };
        results: {
          ruleId: string;
          ruleIndex: number;
          level: string;
          message: { text: string };
          locations: {
            physicalLocation: {
              artifactLocation: { uri: string };
              region: { startLine: number; startColumn: number };
            };
          }[];
        }[];
      }[];
    };
    expect(log.version).toBe("2.1.0");
    expect(log.$schema).toMatch(/sarif-2\.1\.0/);
    expect(log.runs).toHaveLength(1);
    const [sarifRun] = log.runs;
    expect(sarifRun?.tool.driver.name).toBe("upkeep");
    expect(sarifRun?.tool.driver.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(sarifRun?.tool.driver.rules.map((r) => r.id)).toEqual(["dependency-cycle"]);
    expect(sarifRun?.tool.driver.rules[0]?.shortDescription.text).toMatch(/loop/);
    expect(sarifRun?.results).toEqual([
      {
        ruleId: "dependency-cycle",
        ruleIndex: 0,
        level: "error",
        message: { text: "dependency cycle: db -> api -> db (hint: remove one of these dependsOn entries)" },
        locations: [
          {
            physicalLocation: {
              artifactLocation: {
                uri: expect.stringMatching(/^file:\/\/.*\/dependency-cycle\/services\.yaml$/),
              },
              region: { startLine: 8, startColumn: 17 },
            },
            logicalLocations: [{ fullyQualifiedName: "/services/api/dependsOn/0" }],
          },
        ],
      },
    ]);
  });

  it("names files the way the rules dir was given (relative stays relative)", async () => {
    const dir = relative(process.cwd(), join(FIXTURES, "unknown-key"));
    const run = await upkeep("validate", "--rules", dir, "--format", "json");
    const doc = JSON.parse(run.stdout) as { diagnostics: { file: string }[] };
    expect(doc.diagnostics[0]?.file).toBe(join(dir, "services.yaml"));
    const sarif = JSON.parse((await upkeep("validate", "--rules", dir, "--format", "sarif")).stdout) as {
      runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
    };
    expect(sarif.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe(
      `${dir.split("\\").join("/")}/services.yaml`,
    );
  });

  it("uses UPKEEP_RULES when --rules is not given", async () => {
    vi.stubEnv("UPKEEP_RULES", join(FIXTURES, "valid"));
    const run = await upkeep("validate");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("rules are valid\n");
  });

  it("a missing rules dir is a diagnostic, not a crash", async () => {
    const run = await upkeep("validate", "--rules", join(work, "nope"));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("error rules-not-found: rules directory");
    expect(run.stdout).toContain("hint: pass --rules DIR or set UPKEEP_RULES");
    expect(run.stderr).toBe("");
  });

  it("--rules naming a file, or a folder with services.yml: the fix in the hint", async () => {
    const dir = join(work, "yml");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "services.yml"), "version: 1\nservices: {}\n");
    const yml = await upkeep("validate", "--rules", dir);
    expect(yml.code).toBe(1);
    expect(yml.stdout).toContain(
      'hint: found "services.yml": upkeep reads services.yaml (and alerts.yaml); rename it',
    );
    const file = join(dir, "services.yml");
    const asFile = await upkeep("validate", "--rules", file);
    expect(asFile.code).toBe(1);
    expect(asFile.stdout).toContain(`error rules-not-found: "${file}" is a file, not a rules directory`);
    expect(asFile.stdout).toContain(`hint: pass the folder that holds services.yaml: --rules ${dir}`);
  });

  it("an unknown command suggests the closest one (swapped letters included)", async () => {
    const run = await upkeep("rnu");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('upkeep: unknown command "rnu" (did you mean "run"?)');
    expect((await upkeep("valdiate")).stderr).toContain('(did you mean "validate"?)');
  });

  it("usage errors: exit 2, a message and the usage on stderr, nothing on stdout", async () => {
    for (const argv of [
      ["--fromat", "json"],
      ["--format", "xml"],
      ["extra"],
      ["--format"],
      ["--require-env=yes"],
    ]) {
      const run = await upkeep("validate", ...argv);
      expect(run.code, argv.join(" ")).toBe(2);
      expect(run.stdout, argv.join(" ")).toBe("");
      expect(run.stderr, argv.join(" ")).toContain("Usage: upkeep validate");
    }
    expect((await upkeep("validate", "--fromat", "json")).stderr).toMatch(
      /^upkeep validate: unknown option --fromat \(did you mean --format\?\)/,
    );
    expect((await upkeep("validate", "--format", "jsno")).stderr).toMatch(/did you mean "json"\?/);
  });

  it("--help: the usage on stdout, exit 0", async () => {
    const run = await upkeep("validate", "--help");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^Usage: upkeep validate \[--rules DIR\] \[--format text\|json\|github\|sarif\] \[--require-env\]/,
    );
    expect(run.stdout).toContain(
      "Exit codes: 0 valid (warnings allowed), 1 errors found, 2 usage or internal error.",
    );
  });
});
