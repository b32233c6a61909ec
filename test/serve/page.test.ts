/**
 * The status page in a real browser (Debian's headless Chromium, driven by playwright-core): it loads
 * without console errors, follows real ticks by itself (a killed stub goes down, then comes back after
 * the heal), shows the uptime bars and the incident, refuses an action without the token and runs one
 * with it. Screenshots go to test-output/ (UPKEEP_SCREENSHOTS=DIR to put them elsewhere).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readHistory } from "../../src/runtime/history-store.js";
import { BUILT, REPO, ServeWorld } from "./helpers.js";

const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (p): p is string => p !== undefined && p !== "" && existsSync(p),
);
const skipReason = !BUILT
  ? "dist/ is missing: run `npm run build` first"
  : CHROMIUM === undefined
    ? "no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)"
    : undefined;
if (skipReason !== undefined) console.warn(`serve page tests: skipped: ${skipReason}`);
const SHOTS = process.env.UPKEEP_SCREENSHOTS ?? join(REPO, "test-output");

describe.skipIf(skipReason !== undefined)("the status page in headless Chromium", () => {
  let world: ServeWorld;
  beforeEach(async () => {
    world = new ServeWorld();
    await world.start({ after: 2 });
  });
  afterEach(async () => {
    await world.close();
  });

  it("follows a killed stub down and back up by itself, with the uptime bar and the incident; actions need the token", async () => {
    const { chromium } = await import("playwright-core");
    expect((await world.tick()).code).toBe(0);
    const server = await world.serve(["--actions"]);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    const problems: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      page.on("requestfailed", (r) => {
        // The event stream is cut when the browser closes at the end; anything else is a problem.
        if (!r.url().endsWith("/api/events")) problems.push(`request failed: ${r.url()}`);
      });
      await page.goto(server.url);
      const card = page.locator("#service-api");
      await card.and(page.locator("[data-status=up]")).waitFor({ timeout: 10_000 });
      await expect.poll(() => page.locator("#summary").textContent()).toBe("API is up.");

      // A crash, seen by the next tick: `heal.after: 2` keeps it down for one tick. No reload: the page
      // hears of the change over its event stream.
      await world.killStub();
      expect((await world.tick()).code).toBe(1);
      await page.locator("#service-api[data-status=down]").waitFor({ timeout: 10_000 });
      expect(await page.locator("#summary").textContent()).toBe("1 of 1 down: API.");
      expect(await card.locator(".probe").textContent()).toContain("ECONNREFUSED");
      expect(await card.locator(".alert").textContent()).toContain("CRITICAL api-down");
      await page.screenshot({ path: shot("serve-down.png"), fullPage: true });

      // The next tick heals it (exec starts the stub again, verify passes).
      expect((await world.tick()).code).toBe(0);
      await page.locator("#service-api[data-status=up]").waitFor({ timeout: 10_000 });
      await expect
        .poll(() => card.locator(".incident").first().textContent(), { timeout: 10_000 })
        .toMatch(/ECONNREFUSED.* - healed by upkeep$/);
      // The 24 h bar: its last bucket saw the outage (partly down), earlier ones saw no tick (unknown).
      const cells = card.locator(".bar-row").first().locator(".bar span");
      expect(await cells.count()).toBe(48);
      expect(await cells.last().getAttribute("class")).toBe("partial");
      expect(await cells.first().getAttribute("class")).toBe("unknown");
      expect(await card.locator(".since").textContent()).toMatch(/^UP since /);
      expect(await card.locator(".budget").textContent()).toMatch(/^0 of 3 heals left|^2 of 3 heals left/);
      await page.screenshot({ path: shot("serve.png"), fullPage: true });

      // No console error, warning or failed request so far.
      expect(problems).toEqual([]);

      // An action without the token is refused (the browser logs the 401), and changes nothing.
      await card.locator("button[data-action=breaker-isolate]").click();
      await expect
        .poll(() => page.locator("#action-result").textContent())
        .toMatch(/need the token.*\(HTTP 401\)$/);
      expect(await page.locator("#action-result").getAttribute("class")).toBe("error");
      expect(await card.locator(".breaker").textContent()).toBe("Breaker closed: healing allowed.");
      expect(problems.splice(0)).toEqual([
        "error: Failed to load resource: the server responded with a status of 401 (Unauthorized)",
      ]);

      // With the token from the mode-600 file it runs `upkeep breaker isolate` and is recorded.
      const { readFileSync } = await import("node:fs");
      await page.locator("#token").fill(readFileSync(join(world.state, "serve.token"), "utf8").trim());
      await page.locator("#by").fill("alice");
      await card.locator("button[data-action=breaker-isolate]").click();
      await expect
        .poll(() => page.locator("#action-result").textContent(), { timeout: 20_000 })
        .toBe("breaker-isolate: done.");
      await expect
        .poll(() => card.locator(".breaker").textContent())
        .toMatch(/^Healing off: isolated until /);
      const commands = await readHistory(
        { file: join(world.state, "history.db"), retentionMs: 90 * 86_400_000, intervalMs: 300_000 },
        { kinds: ["command"] },
      );
      expect(commands.map((c) => (c.kind === "command" ? [c.command, c.service, c.by] : []))).toEqual([
        ["breaker isolate", "api", "alice (upkeep serve)"],
      ]);
    } finally {
      await browser.close();
    }
    expect(problems).toEqual([]);
  });
});

function shot(name: string): string {
  mkdirSync(SHOTS, { recursive: true });
  return join(SHOTS, name);
}
