import { describe, expect, it } from "vitest";
import { closest, didYouMean } from "../../src/config/diagnostics.js";
import { suggest } from "../../src/config/suggest.js";

describe("suggest: the one did-you-mean helper", () => {
  it("finds small typos, swapped neighbours and abbreviations", () => {
    expect(suggest("titel", ["title", "tags"])).toBe("title");
    expect(suggest("rnu", ["run", "report", "status"])).toBe("run");
    expect(suggest("lable", ["label", "level"])).toBe("label");
    // `cwd` is one edit from `cmd`, but an exec step's `cmd` means `command`.
    expect(suggest("cmd", ["command", "cwd", "env"])).toBe("command");
    expect(suggest("outcom", ["outcome", "reason"])).toBe("outcome");
  });

  it("says nothing when nothing is close", () => {
    expect(suggest("zzz", ["command", "cwd"])).toBeUndefined();
    expect(suggest("run", ["run"])).toBeUndefined();
  });

  it("is the same function the rules checks use", () => {
    expect(closest).toBe(suggest);
    expect(didYouMean(suggest("cmd", ["command"]))).toBe('did you mean "command"?');
  });
});
