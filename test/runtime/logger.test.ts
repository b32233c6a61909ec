/** Log colour follows stderr (where readable logs go), FORCE_COLOR and NO_COLOR, never stdout's TTY. */
import { describe, expect, it } from "vitest";
import { stderrColour } from "../../src/runtime/logger.js";

describe("stderr colour", () => {
  it("FORCE_COLOR decides first: 0 and false turn colour off even on a terminal", () => {
    expect(stderrColour({ FORCE_COLOR: "0" }, true)).toBe(false);
    expect(stderrColour({ FORCE_COLOR: "false" }, true)).toBe(false);
    expect(stderrColour({ FORCE_COLOR: "1", NO_COLOR: "1" }, false)).toBe(true);
  });

  it("NO_COLOR turns it off; otherwise stderr's own TTY decides", () => {
    expect(stderrColour({ NO_COLOR: "1" }, true)).toBe(false);
    expect(stderrColour({}, true)).toBe(true);
    expect(stderrColour({}, false)).toBe(false);
    expect(stderrColour({ NO_COLOR: "" }, true)).toBe(true);
  });
});
