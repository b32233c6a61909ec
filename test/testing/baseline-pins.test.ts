/**
 * The shipped rule tests pin the baseline: change any baseline number in rules/ and `upkeep test` fails.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyOfShippedRules, upkeep } from "./helpers.js";

interface Mutation {
  readonly what: string;
  readonly file: "services.yaml" | "alerts.yaml";
  readonly from: string;
  readonly to: readonly string[];
}

const MUTATIONS: readonly Mutation[] = [
  {
    what: "breaker failureThreshold (5)",
    file: "services.yaml",
    from: "failureThreshold: 5",
    to: ["failureThreshold: 4", "failureThreshold: 6"],
  },
  {
    what: "breaker successThreshold (2)",
    file: "services.yaml",
    from: "successThreshold: 2",
    to: ["successThreshold: 1", "successThreshold: 3"],
  },
  {
    what: "breaker openFor (60s)",
    file: "services.yaml",
    from: "openFor: 60s",
    to: ["openFor: 30s", "openFor: 90s"],
  },
  {
    what: "heal cooldown (5m)",
    file: "services.yaml",
    from: "cooldown: 5m",
    to: ["cooldown: 4m", "cooldown: 6m"],
  },
  {
    what: "heal budget max (3)",
    file: "services.yaml",
    from: "budget: { max: 3,",
    to: ["budget: { max: 2,", "budget: { max: 4,"],
  },
  { what: "heal budget per (1h)", file: "services.yaml", from: "per: 1h }", to: ["per: 30m }", "per: 2h }"] },
  {
    what: "CRITICAL threshold (3)",
    file: "alerts.yaml",
    from: "CRITICAL: { threshold: 3,",
    to: ["CRITICAL: { threshold: 2,", "CRITICAL: { threshold: 4,"],
  },
  {
    what: "CRITICAL cooldown (1h)",
    file: "alerts.yaml",
    from: "threshold: 3, cooldown: 1h,",
    to: ["threshold: 3, cooldown: 30m,", "threshold: 3, cooldown: 2h,"],
  },
  {
    what: "WARNING threshold (5)",
    file: "alerts.yaml",
    from: "WARNING: { threshold: 5,",
    to: ["WARNING: { threshold: 4,", "WARNING: { threshold: 6,"],
  },
  {
    what: "WARNING cooldown (2h)",
    file: "alerts.yaml",
    from: "threshold: 5, cooldown: 2h,",
    to: ["threshold: 5, cooldown: 1h,", "threshold: 5, cooldown: 3h,"],
  },
  {
    what: "INFO threshold (10)",
    file: "alerts.yaml",
    from: "INFO: { threshold: 10,",
    to: ["INFO: { threshold: 9,", "INFO: { threshold: 11,"],
  },
  {
    what: "INFO cooldown (24h)",
    file: "alerts.yaml",
    from: "threshold: 10, cooldown: 24h,",
    to: ["threshold: 10, cooldown: 12h,", "threshold: 10, cooldown: 48h,"],
  },
];

let rules = "";
const original = new Map<string, string>();

beforeAll(async () => {
  rules = await copyOfShippedRules("pins");
  for (const file of ["services.yaml", "alerts.yaml"])
    original.set(file, await readFile(join(rules, file), "utf8"));
});

afterAll(async () => {
  await rm(dirname(rules), { recursive: true, force: true });
});

async function withRules(file: string, text: string): Promise<number> {
  await writeFile(join(rules, file), text);
  try {
    return (await upkeep("test", "--rules", rules)).code;
  } finally {
    await writeFile(join(rules, file), original.get(file) as string);
  }
}

describe("the shipped rule tests pin the baseline", () => {
  it("pass on an unchanged copy of the rules", async () => {
    expect((await upkeep("test", "--rules", rules)).code).toBe(0);
  });

  describe.each(MUTATIONS)("$what", ({ file, from, to }) => {
    it.each(to)(`fail when it becomes "%s"`, async (replacement) => {
      const text = original.get(file) as string;
      expect(text.split(from)).toHaveLength(2);
      expect(await withRules(file, text.replace(from, replacement))).toBe(1);
    });
  });
});
