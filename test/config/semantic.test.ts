import { describe, expect, it } from "vitest";
import type { HandlerKind, JsonSchema } from "../../src/actions/types.js";
import type { Finding } from "../../src/config/diagnostics.js";
import { checkAlerts, checkServices, type HandlerCatalog, serviceIdsOf } from "../../src/config/semantic.js";

/**
 * TEMPORARY (test only): handler names as listed in notes/handlers-spec.md, so these unit tests do not
 * depend on which handlers src/actions/registry.ts has registered so far. validate.test.ts and the
 * CLI tests use the real registry.
 */
const SPEC_HANDLERS: Readonly<Record<HandlerKind, readonly string[]>> = {
  probe: ["tcp", "http", "exec", "launchd", "file"],
  step: [
    "wait", "verify", "exec", "http", "launchd.unload", "launchd.load", "launchd.kickstart",
    "launchd.bootout", "launchd.bootstrap", "systemd.restart",
  ],
  channel: ["log", "discord", "slack", "webhook", "command", "macos"],
}; // prettier-ignore

function catalog(plugins: Partial<Record<HandlerKind, Record<string, JsonSchema>>> = {}): HandlerCatalog {
  return {
    names: (kind) => [...SPEC_HANDLERS[kind], ...Object.keys(plugins[kind] ?? {})],
    pluginSchema: (kind, name) => plugins[kind]?.[name],
  };
}

const options = (
  extra: Partial<Parameters<typeof checkServices>[1]> = {},
): Parameters<typeof checkServices>[1] => ({
  handlers: catalog(),
  env: {},
  requireEnv: false,
  ...extra,
});

const brief = (findings: Finding[]): string[] => findings.map((f) => `${f.code} ${f.pointer}`);

const recipeDoc = (serviceHeal: unknown, recipe: Record<string, unknown> = {}): unknown => ({
  version: 1,
  recipes: {
    restart: {
      params: { label: { required: true }, delay: { default: "2s" } },
      steps: [
        { action: "launchd.unload", with: { label: "${{ params.label }}" } },
        { action: "wait", with: { for: "${{ params.delay }}" } },
        { action: "verify" },
      ],
      ...recipe,
    },
  },
  services: { api: { probe: { type: "tcp", port: 1 }, heal: serviceHeal } },
});

describe("checkServices", () => {
  it("finds nothing wrong in a well-formed document", () => {
    expect(checkServices(recipeDoc({ recipe: "restart", with: { label: "x" } }), options())).toEqual([]);
  });

  it("validates what a service passes where the recipe puts it, blaming the service's argument", () => {
    const findings = checkServices(
      recipeDoc({ recipe: "restart", with: { label: "x", delay: "soon" } }),
      options(),
    );
    expect(findings).toEqual([
      expect.objectContaining({
        pointer: "/services/api/heal/with/delay",
        code: "invalid-duration",
        message: expect.stringContaining('got "soon" (used by step 2 (wait) of recipe "restart")'),
      }),
    ]);
  });

  it("blames a bad default at the recipe, once however many services use it", () => {
    const doc = recipeDoc({ recipe: "restart", with: { label: "x" } }) as {
      recipes: { restart: { params: { delay: { default: string } } } };
      services: Record<string, unknown>;
    };
    doc.recipes.restart.params.delay.default = "later";
    doc.services["web"] = {
      probe: { type: "tcp", port: 2 },
      heal: { recipe: "restart", with: { label: "y" } },
    };
    const findings = checkServices(doc, options());
    expect(brief(findings)).toEqual([
      "invalid-duration /recipes/restart/params/delay/default",
      "invalid-duration /recipes/restart/params/delay/default",
    ]);
    expect(findings[0]?.message).toBe(findings[1]?.message);
  });

  it("warns when an optional param without default is used but not passed", () => {
    const doc = recipeDoc(
      { recipe: "restart", with: { label: "x" } },
      {
        params: { label: { required: true }, delay: {} },
      },
    );
    const findings = checkServices(doc, options());
    expect(findings).toEqual([
      expect.objectContaining({
        code: "missing-param",
        severity: "warning",
        pointer: "/services/api/heal/recipe",
      }),
    ]);
  });

  it("checks an env variable's value when it is set, without printing it", () => {
    const doc = { version: 1, services: { api: { probe: { type: "tcp", port: "${env:API_PORT}" } } } };
    expect(checkServices(doc, options({ env: { API_PORT: "8080" } }))).toEqual([]);
    const findings = checkServices(doc, options({ env: { API_PORT: "99999" } }));
    expect(findings).toEqual([
      expect.objectContaining({ code: "port-range", pointer: "/services/api/probe/port" }),
    ]);
    expect(findings[0]?.message).toContain("${env:API_PORT}");
    expect(findings[0]?.message).not.toContain("99999");
    expect(brief(checkServices(doc, options()))).toEqual(["env-unset /services/api/probe/port"]);
  });

  it("reports every cycle once, including a service that depends on itself", () => {
    const doc = {
      version: 1,
      services: {
        a: { probe: { type: "tcp", port: 1 }, dependsOn: ["b"] },
        b: { probe: { type: "tcp", port: 1 }, dependsOn: ["c", "a"] },
        c: { probe: { type: "tcp", port: 1 }, dependsOn: ["a"] },
        self: { probe: { type: "tcp", port: 1 }, dependsOn: ["self"] },
        ok: { probe: { type: "tcp", port: 1 }, dependsOn: ["a"] },
      },
    };
    const findings = checkServices(doc, options());
    expect(findings.map((f) => [f.pointer, f.message])).toEqual([
      ["/services/c/dependsOn/0", "dependency cycle: a -> b -> c -> a"],
      ["/services/b/dependsOn/1", "dependency cycle: a -> b -> a"],
      ["/services/self/dependsOn/0", "dependency cycle: self -> self"],
    ]);
  });

  it("handles a 5,000-long dependency chain without overflowing the stack", () => {
    const services: Record<string, unknown> = {};
    for (let i = 0; i < 5000; i++)
      services[`s${i}`] = { probe: { type: "tcp", port: 1 }, dependsOn: i === 0 ? ["s4999"] : [`s${i - 1}`] };
    const findings = checkServices({ version: 1, services }, options());
    expect(findings).toHaveLength(1);
    expect(findings[0]?.code).toBe("dependency-cycle");
  });

  it("checks template roots and service fields where parameters are rendered", () => {
    const doc = {
      version: 1,
      services: {
        api: {
          probe: { type: "http", url: "http://${{ service.name }}/health" },
          heal: {
            steps: [
              { action: "exec", with: { command: ["x", "${{ params.label }}", "${{ service.id }}"] } },
              { action: "verify" },
            ],
          },
        },
      },
    };
    const findings = checkServices(doc, options());
    expect(brief(findings)).toEqual([
      "unknown-template-root /services/api/probe/url",
      "unknown-template-root /services/api/heal/steps/0/with/command/1",
    ]);
    expect(findings[1]?.message).toMatch(/"params" is not available in service settings/);
  });

  it("checks json-logic in step conditions (with probe facts) and in http expect.json (no fact names)", () => {
    const doc = {
      version: 1,
      services: {
        api: {
          probe: {
            type: "http",
            url: "http://x",
            expect: { json: { "==": [{ var: "anything.goes" }, 1], extra: 1 } },
          },
          heal: {
            steps: [
              { action: "wait", with: { for: "1s" }, when: { ">": [{ var: "probe.status" }, 500] } },
              { action: "verify", when: { "==": [{ var: "stauts" }, "down"] } },
            ],
          },
        },
      },
    };
    expect(brief(checkServices(doc, options()))).toEqual([
      "invalid-logic /services/api/probe/expect/json",
      "unknown-fact /services/api/heal/steps/1/when/==/0/var",
    ]);
  });

  it("checks a plugin handler's parameters with its own schema", () => {
    const schema = {
      type: "object",
      additionalProperties: false,
      properties: { path: { type: "string" }, retries: { type: "integer", minimum: 0 } },
      required: ["path"],
    };
    const doc = {
      version: 1,
      services: {
        api: {
          probe: { type: "redis", timeout: "1s", pth: "/x" },
          heal: { steps: [{ action: "flush", with: { path: "/y", retries: -1 } }, { action: "verify" }] },
        },
      },
    };
    const handlers = catalog({ probe: { redis: schema }, step: { flush: schema } });
    const findings = checkServices(doc, options({ handlers }));
    // `pth` for the required `path` is one mistake: the did-you-mean says it, no "missing path" beside it.
    expect(findings).toEqual([
      expect.objectContaining({
        code: "unknown-key",
        pointer: "/services/api/probe/pth",
        hint: 'did you mean "path"?',
      }),
      expect.objectContaining({ code: "out-of-range", pointer: "/services/api/heal/steps/0/with/retries" }),
    ]);
  });

  it("flags durations that have the right form but cannot be used", () => {
    const doc = {
      version: 1,
      services: { api: { probe: { type: "tcp", port: 1, timeout: `${"9".repeat(30)}d` } } },
    };
    expect(brief(checkServices(doc, options()))).toEqual(["invalid-duration /services/api/probe/timeout"]);
  });

  it("says nothing about shapes it does not understand (the schema reports those)", () => {
    expect(checkServices(null, options())).toEqual([]);
    expect(checkServices({ services: [1, 2], recipes: "x" }, options())).toEqual([]);
    expect(
      checkServices({ services: { a: { probe: "tcp", heal: { steps: "x" }, dependsOn: 3 } } }, options()),
    ).toEqual([]);
  });

  it("reads service ids for alerts.yaml references", () => {
    expect(serviceIdsOf({ services: { a: {}, b: {} } })).toEqual(["a", "b"]);
    expect(serviceIdsOf({ services: [] })).toBeUndefined();
  });
});

describe("checkAlerts", () => {
  const alerts = (rules: unknown, extra: Record<string, unknown> = {}): unknown => ({
    version: 1,
    channels: { log: { type: "log" }, hook: { type: "webhook", with: { url: "${env:HOOK_URL}" } } },
    levels: { CRITICAL: { channels: ["log", "hook"] } },
    rules,
    ...extra,
  });

  it("checks message templates against the facts, and refuses env variables in messages", () => {
    const doc = alerts({
      r: {
        level: "CRITICAL",
        when: true,
        message: "${{ service.title }} (${{ service.tags }}) down: ${{ detial }} ${env:SECRET}",
      },
    });
    const findings = checkAlerts(doc, ["api"], options({ env: { HOOK_URL: "x" } }));
    expect(findings.map((f) => [f.code, f.hint])).toEqual([
      ["unknown-template-root", 'did you mean "detail"?'],
      ["unknown-template-root", expect.stringMatching(/only read in handler parameters/)],
    ]);
  });

  it("checks nested fact paths in conditions and messages, with did-you-mean on the wrong field", () => {
    const doc = alerts({
      r: {
        level: "CRITICAL",
        when: {
          and: [
            { "==": [{ var: "heal.outcom" }, "failed"] },
            { in: ["db", { var: "service.tags" }] },
            { "==": [{ var: "blockedBy.0" }, "db"] },
            { "==": [{ var: "status.code" }, 1] },
          ],
        },
        message: "${{ service.tittle }} ${{ heal.reason }} ${{ service.tags.length }}",
      },
    });
    const findings = checkAlerts(doc, ["api"], options({ env: { HOOK_URL: "x" } }));
    expect(findings.map((f) => [f.code, f.pointer, f.message, f.hint])).toEqual([
      [
        "unknown-fact",
        "/rules/r/when/and/0/==/0/var",
        '"heal.outcom" is not a fact conditions can read ("heal" has heal.outcome, heal.reason, heal.refusedBy, heal.forced, heal.nextAllowedAt, heal.budgetLeft, heal.failedInRow, heal.failedSince)',
        'did you mean "heal.outcome"?',
      ],
      [
        "unknown-fact",
        "/rules/r/when/and/3/==/0/var",
        '"status.code" is not a fact conditions can read ("status" is a single value with no fields)',
        undefined,
      ],
      [
        "unknown-template-root",
        "/rules/r/message",
        '${{ service.tittle }}: "service.tittle" is not available in alert messages ("service" has service.id, service.title, service.tags)',
        'did you mean "service.title"?',
      ],
    ]);
  });

  it("allows only env variables in channel settings", () => {
    const doc = alerts(
      {},
      { channels: { hook: { type: "webhook", with: { url: "https://x/${{ service.id }}" } } }, levels: {} },
    );
    expect(brief(checkAlerts(doc, [], options()))).toEqual(["unknown-template-root /channels/hook/with/url"]);
  });

  it("checks service and level references in rules and silences; skips services when they are unknown", () => {
    const doc = alerts(
      { r: { level: "CRITICAL", when: true, services: ["api", "wbe"] } },
      { silences: [{ id: "s", services: ["nope"], levels: ["WARNING"] }] },
    );
    expect(brief(checkAlerts(doc, ["api", "web"], options({ env: { HOOK_URL: "x" } })))).toEqual([
      "unknown-service /rules/r/services/1",
      "unknown-service /silences/0/services/0",
      "unknown-level /silences/0/levels/0",
    ]);
    expect(brief(checkAlerts(doc, undefined, options({ env: { HOOK_URL: "x" } })))).toEqual([
      "unknown-level /silences/0/levels/0",
    ]);
  });

  it("makes an unset env variable an error with requireEnv", () => {
    const findings = checkAlerts(alerts({}), [], options({ requireEnv: true }));
    expect(findings).toEqual([
      expect.objectContaining({ code: "env-unset", severity: "error", pointer: "/channels/hook/with/url" }),
    ]);
  });
});
