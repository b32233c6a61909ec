import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { run } from "../../src/cli/commands/silence.js";
import { adHocSilences, updateSilences, type SilencesState } from "../../src/runtime/silences.js";

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[]): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => out.push(String(chunk)) > 0);
  const e = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => err.push(String(chunk)) > 0);
  try {
    const code = await run([...argv, "--rules", rules, "--state-dir", stateDir], {});
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

let root: string;
let rules: string;
let stateDir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "upkeep-silence-cli-"));
  rules = join(root, "rules");
  stateDir = join(root, "state");
  mkdirSync(rules);
  writeFileSync(
    join(rules, "services.yaml"),
    "version: 1\nservices:\n  api:\n    probe: { type: tcp, port: 8080 }\n  worker:\n    probe: { type: tcp, port: 8081 }\n",
  );
  writeFileSync(
    join(rules, "alerts.yaml"),
    [
      "version: 1",
      "channels:",
      "  log: { type: log }",
      "levels:",
      "  CRITICAL: { threshold: 3, cooldown: 1h, channels: [log] }",
      "  WARNING: { threshold: 5, cooldown: 2h, channels: [log] }",
      "rules:",
      "  down: { level: CRITICAL, when: { '==': [{ var: status }, down] } }",
      "silences:",
      "  - { id: nightly, services: [worker], weekly: { days: [sun], from: '02:00', to: '03:00' }, comment: backups }",
      "",
    ].join("\n"),
  );
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const stored = (): SilencesState =>
  JSON.parse(readFileSync(join(stateDir, "silences.json"), "utf8")) as SilencesState;

describe("upkeep silence", () => {
  it("adds a silence to state, prints its id, and the tick's reader sees it", async () => {
    const before = Date.now();
    const added = await cli([
      "add",
      "--service",
      "api",
      "--level",
      "CRITICAL",
      "--for",
      "2h",
      "--comment",
      "deploy",
      "--pause-healing",
    ]);
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^sil-[0-9a-f]{8}\n$/);
    expect(added.stderr).toMatch(/silenced CRITICAL alerts of api for 2h until .*\(healing paused\)/);
    const id = added.stdout.trim();
    const [silence] = stored().silences;
    expect(stored().version).toBe(1);
    expect(silence).toMatchObject({
      id,
      services: ["api"],
      levels: ["CRITICAL"],
      pauseHealing: true,
      comment: "deploy",
    });
    expect((silence?.endsAt ?? 0) - (silence?.startsAt ?? 0)).toBe(2 * 3_600_000);
    expect(silence?.startsAt).toBeGreaterThanOrEqual(before);
    expect(await adHocSilences(stateDir)).toEqual([
      {
        id,
        services: ["api"],
        levels: ["CRITICAL"],
        startsAt: silence?.startsAt,
        endsAt: silence?.endsAt,
        pauseHealing: true,
        comment: "deploy",
      },
    ]);
  });

  it("lists ad-hoc and rules silences with their state, as text and JSON", async () => {
    const until = new Date(Date.now() + 3 * 3_600_000).toISOString();
    const { stdout } = await cli(["add", "--until", until, "--comment", "all quiet"]);
    const id = stdout.trim();
    const text = await cli(["list"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${id}  ACTIVE  all services; all levels`);
    expect(text.stdout).toContain("    all quiet");
    expect(text.stdout).toContain("nightly  WEEKLY  worker; all levels  always .. open-ended  (from rules)");
    const json = JSON.parse((await cli(["list", "--format", "json"])).stdout) as {
      silences: { id: string; state: string; source: string; endsAt: string }[];
    };
    expect(json.silences.map((s) => [s.id, s.state, s.source])).toEqual([
      ["nightly", "weekly", "rules"],
      [id, "active", "state"],
    ]);
    expect(Date.parse(json.silences[1]?.endsAt ?? "")).toBe(Math.floor(Date.parse(until) / 1000) * 1000);
  });

  it("removes a silence by id; an unknown id exits 1, a rules silence is refused", async () => {
    const id = (await cli(["add", "--for", "30m", "--comment", "x"])).stdout.trim();
    const typo = `${id.slice(0, -1)}${id.endsWith("0") ? "1" : "0"}`;
    const missing = await cli(["remove", typo]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no silence "${typo}" (did you mean "${id}"?)`);
    expect(await cli(["remove", id])).toMatchObject({ code: 0, stdout: `removed ${id}\n` });
    expect(stored().silences).toEqual([]);
    expect((await cli(["remove", "nightly"])).code).toBe(2);
  });

  it("shows expired silences for a week, then prunes them on the next write", async () => {
    const now = Date.now();
    const expired = {
      id: "sil-00000001",
      services: [],
      levels: [],
      startsAt: now - 5 * 3_600_000,
      endsAt: now - 3_600_000,
      pauseHealing: false,
      comment: "old",
      createdAt: now,
      createdBy: "t",
    };
    const ancient = { ...expired, id: "sil-00000002", endsAt: now - 8 * 24 * 3_600_000 };
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(
      join(stateDir, "silences.json"),
      JSON.stringify({ version: 1, silences: [expired, ancient] }),
    );
    const listed = await cli(["list"]);
    expect(listed.stdout).toContain("sil-00000001  EXPIRED");
    expect(listed.stdout).not.toContain("sil-00000002");
    expect(await adHocSilences(stateDir)).toEqual([]);
    await updateSilences(stateDir, now, (state) => ({ state, result: undefined }));
    expect(stored().silences.map((s) => s.id)).toEqual(["sil-00000001"]);
  });

  it("refuses bad input with a hint, changing nothing", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["add", "--service", "apu", "--for", "1h", "--comment", "x"],
        /unknown service "apu" \(did you mean "api"\?\)/,
      ],
      [
        ["add", "--level", "CRITICL", "--for", "1h", "--comment", "x"],
        /unknown level "CRITICL" \(did you mean "CRITICAL"\?\)/,
      ],
      [["add", "--for", "1h"], /--comment TEXT is required/],
      [
        ["add", "--for", "1h", "--until", "2099-01-01T00:00:00Z", "--comment", "x"],
        /exactly one of --for or --until/,
      ],
      [["add", "--for", "soon", "--comment", "x"], /--for must be a duration/],
      [["add", "--until", "2001-01-01T00:00:00Z", "--comment", "x"], /not in the future/],
      [["ad", "--for", "1h"], /unknown subcommand "ad".*did you mean "add"/],
      [["add", "--servce", "api"], /unknown option --servce \(did you mean --service\?\)/],
    ];
    for (const [argv, message] of cases) {
      const result = await cli(argv);
      expect(result.code, argv.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect(existsSync(join(stateDir, "silences.json"))).toBe(false);
  });

  describe("a corrupt silences file", () => {
    const file = (): string => join(stateDir, "silences.json");
    // Torn JSON, and a silence without its fields: neither can be read back as silences.
    const contents = ["{ torn", '{"version": 1, "silences": [{"id": "sil-1"}]}'];

    it.each(contents)(
      "add and remove refuse to overwrite it, naming it and what to do (%s)",
      async (content) => {
        mkdirSync(stateDir, { recursive: true });
        writeFileSync(file(), content);
        for (const argv of [
          ["add", "--for", "1h", "--comment", "deploy"],
          ["remove", "sil-1"],
        ]) {
          const result = await cli(argv);
          expect(result.code, argv.join(" ")).toBe(2);
          expect(result.stdout).toBe("");
          expect(result.stderr).toContain(`silences file ${file()} is`);
          expect(result.stderr).toMatch(/fix it or move it aside/);
        }
        expect(readFileSync(file(), "utf8")).toBe(content);
        // Not moved aside either (silences.json.lock is the writers' lock).
        expect(readdirSync(stateDir).filter((n) => n.includes("corrupt"))).toEqual([]);
      },
    );

    it("list warns about it on stderr and still lists the rules' silences", async () => {
      mkdirSync(stateDir, { recursive: true });
      writeFileSync(file(), "{ torn");
      const listed = await cli(["list"]);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toContain("nightly");
      expect(listed.stderr).toMatch(/warning: silences file .*silences\.json is invalid JSON/);
      expect(readFileSync(file(), "utf8")).toBe("{ torn");
    });
  });
});
