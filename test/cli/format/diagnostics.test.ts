import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../../src/config/diagnostics.js";
import {
  formatGithub,
  formatJson,
  formatSarif,
  excerpt,
  formatText,
  summaryLine,
} from "../../../src/cli/format/diagnostics.js";

const SOURCE = "version: 1\nservices:\n  api:\n\ttitel: x\n";
const d = (over: Partial<Diagnostic> = {}): Diagnostic => ({
  severity: "error",
  code: "unknown-key",
  message: 'unknown key "titel"',
  file: "rules/services.yaml",
  line: 4,
  column: 2,
  pointer: "/services/api/titel",
  hint: 'did you mean "title"?',
  ...over,
});
const readSource = (file: string): string | undefined =>
  file === "rules/services.yaml" ? SOURCE : undefined;

describe("formatText", () => {
  it("prints position, severity, code and message, the source line with a caret, the hint, and a count", () => {
    expect(formatText([d()], { readSource })).toBe(
      [
        'rules/services.yaml:4:2 error unknown-key: unknown key "titel"',
        " 4 |  titel: x",
        "   |  ^",
        '  hint: did you mean "title"?',
        "",
        "1 error, 0 warnings",
        "",
      ].join("\n"),
    );
  });

  it("skips the source line when the file cannot be read", () => {
    const text = formatText(
      [d({ file: "missing/services.yaml", code: "rules-not-found", hint: undefined })],
      { readSource },
    );
    expect(text).toBe(
      'missing/services.yaml:4:2 error rules-not-found: unknown key "titel"\n\n1 error, 0 warnings\n',
    );
  });

  it("says the rules are valid when there are only warnings, or nothing", () => {
    expect(formatText([], { readSource })).toBe("rules are valid\n");
    expect(summaryLine([d({ severity: "warning" }), d({ severity: "warning", line: 1 })])).toBe(
      "rules are valid (2 warnings)",
    );
    expect(summaryLine([d(), d({ line: 1 }), d({ severity: "warning" })])).toBe("2 errors, 1 warning");
  });
});

describe("formatJson", () => {
  it("prints the contract, without a hint key when there is no hint", () => {
    const doc = JSON.parse(formatJson([d({ hint: undefined, severity: "warning" })])) as Record<
      string,
      unknown
    >;
    expect(doc).toEqual({
      valid: true,
      diagnostics: [
        {
          severity: "warning",
          code: "unknown-key",
          message: 'unknown key "titel"',
          file: "rules/services.yaml",
          line: 4,
          column: 2,
          pointer: "/services/api/titel",
        },
      ],
    });
  });
});

describe("formatGithub", () => {
  it("escapes properties and data as workflow commands require", () => {
    const out = formatGithub([
      d({ file: "a,b:c.yaml", message: "50% done\nnext", hint: undefined, severity: "warning" }),
    ]);
    expect(out).toBe("::warning file=a%2Cb%3Ac.yaml,line=4,col=2,title=unknown-key::50%25 done%0Anext\n");
  });
});

describe("formatSarif", () => {
  it("lists each code once as a rule and indexes results to it", () => {
    const log = JSON.parse(
      formatSarif([d(), d({ line: 5 }), d({ code: "port-range", hint: undefined })], { version: "1.2.3" }),
    ) as {
      runs: {
        tool: { driver: { version: string; rules: { id: string }[] } };
        results: { ruleIndex: number; message: { text: string } }[];
      }[];
    };
    const run = log.runs[0];
    expect(run?.tool.driver.version).toBe("1.2.3");
    expect(run?.tool.driver.rules.map((r) => r.id)).toEqual(["unknown-key", "port-range"]);
    expect(run?.results.map((r) => r.ruleIndex)).toEqual([0, 0, 1]);
    expect(run?.results[2]?.message.text).toBe('unknown key "titel"');
  });

  it("uses file URIs for absolute paths and relative URIs otherwise", () => {
    const log = JSON.parse(
      formatSarif([d({ file: "/abs/my rules/services.yaml" }), d({ file: "my rules/services.yaml" })]),
    ) as {
      runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
    };
    const uris = log.runs[0]?.results.map((r) => r.locations[0]?.physicalLocation.artifactLocation.uri);
    expect(uris).toEqual(["file:///abs/my%20rules/services.yaml", "my%20rules/services.yaml"]);
  });
});

describe("SARIF rules as code scanning shows them", () => {
  it("carry a full description, help and a default level for each code used", () => {
    const log = JSON.parse(
      formatSarif([d(), d({ code: "deprecated-key", severity: "warning", message: "old" })]),
    ) as {
      runs: {
        tool: {
          driver: {
            rules: {
              id: string;
              fullDescription: { text: string };
              help: { text: string; markdown: string };
              defaultConfiguration: { level: string };
            }[];
          };
        };
      }[];
    };
    const rules = log.runs[0]?.tool.driver.rules ?? [];
    expect(rules.map((r) => [r.id, r.defaultConfiguration.level])).toEqual([
      ["unknown-key", "error"],
      ["deprecated-key", "warning"],
    ]);
    for (const rule of rules) {
      expect(rule.fullDescription.text).toMatch(/^[A-Z`].+\.$/);
      expect(rule.help.text).toContain("upkeep validate");
      expect(rule.help.markdown).toContain("`upkeep validate`");
    }
  });
});

describe("quoting a very long source line", () => {
  it("shows a window around the column with the caret under it", () => {
    const line = `${"a".repeat(5000)}X${"b".repeat(5000)}`;
    const { shown, caret } = excerpt(line, 5001);
    expect(shown.length).toBeLessThanOrEqual(122);
    expect(shown[caret]).toBe("X");
    expect(shown.startsWith("…") && shown.endsWith("…")).toBe(true);
    expect(excerpt("short: x", 8)).toEqual({ shown: "short: x", caret: 7 });
  });

  it("keeps text output bounded for thousands of findings on one huge line", () => {
    const source = `${"x".repeat(200_000)}\n`;
    const many = Array.from({ length: 20_000 }, (_, i) => d({ line: 1, column: 1 + i * 10 }));
    const text = formatText(many, { readSource: () => source });
    expect(text.length).toBeLessThan(20_000 * 400);
    expect(text).toContain("20000 errors");
  });
});
