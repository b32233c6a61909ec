/**
 * `upkeep completion`: the scripts come from the command table and each command's own --help. The bash
 * script is sourced in a real bash and its completion function called the way bash calls it
 * (COMP_WORDS/COMP_CWORD in, COMPREPLY out); zsh and fish scripts are syntax-checked when those shells
 * are installed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandSpecs, parseHelp, type CommandSpec } from "../../src/cli/commands/completion.js";
import { COMMANDS } from "../../src/cli/main.js";
import { upkeep } from "../testing/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "upkeep-completion-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hasShell(name: string): boolean {
  return spawnSync(name, ["-c", "exit 0"], { stdio: "ignore", timeout: 10_000 }).status === 0;
}

async function script(shell: string): Promise<string> {
  const result = await upkeep("completion", shell);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const file = join(dir, `upkeep.${shell}`);
  writeFileSync(file, result.stdout);
  return file;
}

/** What bash offers for the command line `words` (the last word is the one being completed). */
function complete(file: string, words: readonly string[]): string[] {
  const array = words.map((w) => `'${w}'`).join(" ");
  const result = spawnSync(
    "bash",
    [
      "--norc",
      "--noprofile",
      "-c",
      `source "$1" || exit 9; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _upkeep; printf '%s\\n' "\${COMPREPLY[@]}"`,
      "bash",
      file,
    ],
    { encoding: "utf8", timeout: 10_000 },
  );
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return result.stdout.split("\n").filter((line) => line.length > 0);
}

describe("upkeep completion bash (sourced in a real bash)", () => {
  let file = "";
  beforeAll(async () => {
    file = await script("bash");
  });

  it("registers a completion function for upkeep", () => {
    const result = spawnSync(
      "bash",
      ["--norc", "--noprofile", "-c", `source "$1"; complete -p upkeep`, "bash", file],
      {
        encoding: "utf8",
        timeout: 10_000,
      },
    );
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe("complete -o default -F _upkeep upkeep");
  });

  it("offers every command of the command table after `upkeep `, and only those (plus --help, --version)", () => {
    expect(complete(file, ["upkeep", ""]).sort()).toEqual(
      [...Object.keys(COMMANDS), "--help", "--version"].sort(),
    );
    expect(complete(file, ["upkeep", "lo"])).toEqual(["logs"]);
  });

  it("offers a command's flags after `upkeep run --`", () => {
    const flags = complete(file, ["upkeep", "run", "--"]);
    expect(flags).toEqual(
      expect.arrayContaining([
        "--rules",
        "--state-dir",
        "--service",
        "--format",
        "--dry-run",
        "--verbose",
        "--help",
      ]),
    );
    expect(flags).not.toContain("--follow");
    expect(complete(file, ["upkeep", "logs", "--fo"]).sort()).toEqual(["--follow", "--format"]);
  });

  it("offers subcommands right after a command that has them, flags later", () => {
    expect(complete(file, ["upkeep", "silence", ""]).sort()).toEqual(["add", "list", "remove"]);
    expect(complete(file, ["upkeep", "launchd", "in"])).toEqual(["install"]);
    expect(complete(file, ["upkeep", "completion", ""]).sort()).toEqual(["bash", "fish", "zsh"]);
    expect(complete(file, ["upkeep", "silence", "add", "--pa"])).toEqual(["--pause-healing"]);
    // Past the subcommand, bash falls back to file names (-o default): the function offers nothing.
    expect(complete(file, ["upkeep", "silence", "add", ""])).toEqual([]);
  });
});

describe("upkeep completion: where the flags come from", () => {
  let specs: CommandSpec[] = [];
  beforeAll(async () => {
    specs = await commandSpecs();
  });

  it("reads flags, short forms, values and subcommands from a help text", () => {
    const help = [
      "Usage: upkeep thing <start|stop> [options]",
      "",
      "Options:",
      "  -f, --follow       keep going",
      "  --since WHEN       since when",
      "  --format FORMAT    text or json",
    ].join("\n");
    const parsed = parseHelp("thing", help);
    expect(parsed.subcommands).toEqual(["start", "stop"]);
    expect(parsed.flags).toEqual([
      { long: "follow", short: "f", takesValue: false },
      { long: "since", takesValue: true },
      { long: "format", takesValue: true },
    ]);
    expect(parseHelp("pack", "Usage: upkeep pack <command> [options]").subcommands).toEqual([]);
  });

  it("has a spec for every command in the table, each with --help", () => {
    expect(specs.map((s) => s.name)).toEqual(Object.keys(COMMANDS));
    expect(specs.filter((s) => !s.flags.some((f) => f.long === "help")).map((s) => s.name)).toEqual([]);
  });

  it("offers only flags their command accepts (help and parser agree)", async () => {
    // `--help FLAG`: an accepted flag prints help or says it needs a value; only an unknown one says so.
    const control = await upkeep("run", "--help", "--no-such-flag");
    expect(control.stderr).toMatch(/unknown option/i);
    const refused: string[] = [];
    for (const spec of specs) {
      for (const flag of spec.flags) {
        const result = await upkeep(spec.name, "--help", `--${flag.long}`);
        if (/unknown option/i.test(result.stderr)) refused.push(`${spec.name} --${flag.long}`);
      }
    }
    expect(refused).toEqual([]);
  });

  it("refuses an unknown shell with a usage error", async () => {
    const result = await upkeep("completion", "tcsh");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown shell "tcsh"');
    expect(result.stdout).toBe("");
  });
});

describe("upkeep completion zsh and fish", () => {
  const zsh = hasShell("zsh");
  const fish = hasShell("fish");

  it.skipIf(!zsh)(
    "zsh: generated, and `zsh -n` accepts it (skipped: zsh is not installed here)",
    async () => {
      const file = await script("zsh");
      const result = spawnSync("zsh", ["-n", file], { encoding: "utf8", timeout: 10_000 });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
    },
  );

  it.skipIf(!fish)(
    "fish: generated, and `fish -n` accepts it (skipped: fish is not installed here)",
    async () => {
      const file = await script("fish");
      const result = spawnSync("fish", ["-n", file], { encoding: "utf8", timeout: 10_000 });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
    },
  );

  it("zsh and fish scripts name every command", async () => {
    const entry = { zsh: (name: string) => `'${name}:`, fish: (name: string) => ` -a ${name} -d ` };
    for (const shell of ["zsh", "fish"] as const) {
      const result = await upkeep("completion", shell);
      expect(result.code).toBe(0);
      const missing = Object.keys(COMMANDS).filter((name) => !result.stdout.includes(entry[shell](name)));
      expect(missing, shell).toEqual([]);
    }
  });
});
