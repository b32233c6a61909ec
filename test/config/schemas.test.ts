import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { compileFunction } from "node:vm";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { Ajv2020 } from "ajv/dist/2020.js";
import { DURATION_PATTERN } from "../../src/duration.js";
import {
  AJV_OPTIONS,
  listSchemas,
  SCHEMA_DIR,
  validateHandlerParams,
  validateSchema,
  type SchemaError,
} from "../../src/config/schema-validate.js";
import { run as schemaCommand } from "../../src/cli/commands/schema.js";

type Json = Record<string, unknown>;
type Validate = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BASE = "https://upkeep.dev/schemas/";
const readSchema = (name: string): Json =>
  JSON.parse(readFileSync(`${SCHEMA_DIR}${name}.schema.json`, "utf8")) as Json;
const readRules = (file: string): Json => parse(readFileSync(`${ROOT}rules/${file}`, "utf8")) as Json;
const node = (script: string, ...args: string[]): string =>
  execFileSync(process.execPath, [`${ROOT}scripts/${script}`, ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });

const names = listSchemas();
const handlerNames = names.filter((n) => n.startsWith("handlers/"));
const ofKind = (kind: string): string[] =>
  handlerNames
    .filter((n) => n.startsWith(`handlers/${kind}/`))
    .map((n) => n.slice(`handlers/${kind}/`.length));

/** The built-in handlers of handlers-spec.md: one schema each. */
const SPEC = {
  probe: ["disk", "exec", "file", "http", "launchd", "systemd", "tcp", "tls"],
  step: [
    "exec",
    "http",
    "launchd.bootout",
    "launchd.bootstrap",
    "launchd.kickstart",
    "launchd.load",
    "launchd.unload",
    "systemd.restart",
    "verify",
    "wait",
  ],
  channel: ["alertmanager", "command", "discord", "email", "log", "macos", "ntfy", "slack", "webhook"],
};

/** A valid parameter object for each built-in handler. */
const SAMPLES: Record<string, Json> = {
  "probe/tcp": { host: "127.0.0.1", port: 3002 },
  "probe/http": {
    url: "http://127.0.0.1:4000/health",
    method: "HEAD",
    headers: { Authorization: "Bearer ${env:TOKEN}" },
    insecure: true,
    expect: {
      status: [200, 204],
      bodyContains: "ok",
      json: { "==": [{ var: "ok" }, true] },
      maxLatency: "500ms",
    },
  },
  "probe/exec": {
    command: ["true"],
    cwd: "/tmp",
    env: { A: "1" },
    expect: { exitCode: 0, stdoutMatches: "^ok" },
  },
  "probe/launchd": { label: "com.x", domain: "gui/501", expect: { running: true } },
  "probe/file": { path: "~/heartbeat", maxAge: "10m" },
  "probe/systemd": { unit: "redis.service", user: true, expect: { state: ["active", "reloading"] } },
  "probe/tls": {
    host: "example.com",
    port: 8443,
    servername: "www.example.com",
    minDaysLeft: 21,
    checkHostname: true,
    insecure: false,
    ca: "~/ca.pem",
  },
  "probe/disk": { path: "/", minFree: "10%", minFreeInodes: 100000 },
  "step/wait": { for: "2s" },
  "step/verify": { interval: "250ms", maxInterval: "5s", successes: 2 },
  "step/exec": { command: ["brew", "services", "restart", "redis"], outputLimit: 1024 },
  "step/http": { url: "https://127.0.0.1/restart", body: { force: true }, expect: { status: 202 } },
  "step/launchd.unload": { label: "com.x", plist: "~/Library/LaunchAgents/com.x.plist" },
  "step/launchd.load": { label: "com.x" },
  "step/launchd.kickstart": { label: "com.x", kill: false },
  "step/launchd.bootout": { label: "com.x", domain: "gui/501" },
  "step/launchd.bootstrap": { label: "com.x", plist: "/p.plist" },
  "step/systemd.restart": { unit: "x.service", user: false },
  "channel/log": { level: "warn" },
  "channel/discord": { url: "${env:DISCORD_WEBHOOK_URL}", username: "upkeep" },
  "channel/slack": { url: "https://hooks.slack.example/x", channel: "#ops" },
  "channel/webhook": { url: "https://example.test/hook", secret: "${env:HOOK_SECRET}", method: "PUT" },
  "channel/command": { command: ["/usr/local/bin/notify"] },
  "channel/macos": { title: "upkeep", sound: "Basso" },
  "channel/ntfy": {
    url: "${env:NTFY_URL}",
    token: "${env:NTFY_TOKEN}",
    priority: { CRITICAL: "urgent", WARNING: 4 },
    tags: ["upkeep"],
    timeout: "5s",
  },
  "channel/email": {
    host: "smtp.example.com",
    port: 587,
    username: "upkeep",
    password: "${env:SMTP_PASSWORD}",
    from: "upkeep <upkeep@example.com>",
    to: ["ops@example.com"],
    subject: "[upkeep] {headline}",
    timeout: "5s",
  },
  "channel/alertmanager": {
    urls: ["http://127.0.0.1:9093", "https://am2.example:9093/prefix"],
    instance: "web-1",
    labels: { env: "prod" },
    username: "upkeep",
    password: "${env:AM_PASSWORD}",
    resolveTimeout: "10m",
  },
};

/** Deep copy of the shipped services rules with one change applied. */
function services(
  change: (doc: Json & { services: Record<string, Json>; recipes: Record<string, Json> }) => void,
): Json {
  const doc = structuredClone(readRules("services.yaml")) as Json & {
    services: Record<string, Json>;
    recipes: Record<string, Json>;
  };
  change(doc);
  return doc;
}
function alerts(change: (doc: Json & Record<string, Record<string, Json>>) => void): Json {
  const doc = structuredClone(readRules("alerts.yaml")) as Json & Record<string, Record<string, Json>>;
  change(doc);
  return doc;
}
const step = (doc: { recipes: Record<string, Json> }, i: number): Json =>
  (doc.recipes["launchd-restart"]?.["steps"] as Json[])[i] as Json;

interface Case {
  readonly title: string;
  readonly kind: "services" | "alerts";
  readonly doc: Json;
  /** Expected errors (subset match); empty = valid. */
  readonly errors: Partial<SchemaError>[];
}

const CASES: Case[] = [
  { title: "the shipped services rules", kind: "services", doc: readRules("services.yaml"), errors: [] },
  { title: "the shipped alerts rules", kind: "alerts", doc: readRules("alerts.yaml"), errors: [] },
  {
    title: "an unknown top-level key",
    kind: "services",
    doc: services((d) => (d["servics"] = {})),
    errors: [
      { instancePath: "", keyword: "additionalProperties", params: { additionalProperty: "servics" } },
    ],
  },
  {
    title: "a duration in words",
    kind: "services",
    doc: services((d) => ((d["defaults"] as { breaker: Json }).breaker.openFor = "60 seconds")),
    errors: [{ instancePath: "/defaults/breaker/openFor", keyword: "pattern" }],
  },
  {
    title: "a port out of range",
    kind: "services",
    doc: services((d) => ((d.services["boss-api"]?.["probe"] as Json)["port"] = 70000)),
    errors: [{ instancePath: "/services/boss-api/probe/port", keyword: "maximum" }],
  },
  {
    title: "a port given as a template",
    kind: "services",
    doc: services((d) => ((d.services["boss-api"]?.["probe"] as Json)["port"] = "${env:BOSS_PORT}")),
    errors: [],
  },
  {
    title: "a misspelt built-in probe parameter",
    kind: "services",
    doc: services((d) => ((d.services["boss-api"]?.["probe"] as Json)["hots"] = "x")),
    errors: [
      {
        instancePath: "/services/boss-api/probe",
        keyword: "additionalProperties",
        params: { additionalProperty: "hots" },
      },
    ],
  },
  {
    title: "an http probe without url and with an impossible status",
    kind: "services",
    doc: services((d) => (d.services["boss-api"] = { probe: { type: "http", expect: { status: 700 } } })),
    errors: [
      { instancePath: "/services/boss-api/probe", keyword: "required", params: { missingProperty: "url" } },
      { instancePath: "/services/boss-api/probe/expect/status", keyword: "maximum" },
    ],
  },
  {
    title: "a plugin probe type with its own parameters (checked later, against the plugin's schema)",
    kind: "services",
    doc: services(
      (d) => (d.services["boss-api"] = { probe: { type: "redis", url: "redis://x", timeout: "1s" } }),
    ),
    errors: [],
  },
  {
    title: "a plugin probe type with a bad timeout",
    kind: "services",
    doc: services((d) => (d.services["boss-api"] = { probe: { type: "redis", timeout: "soon" } })),
    errors: [{ instancePath: "/services/boss-api/probe/timeout", keyword: "pattern" }],
  },
  {
    title: "both recipe and steps",
    kind: "services",
    doc: services((d) => ((d.services["boss-api"]?.["heal"] as Json)["steps"] = [{ action: "verify" }])),
    errors: [{ instancePath: "/services/boss-api/heal", keyword: "not" }],
  },
  {
    title: "heal.with without a recipe",
    kind: "services",
    doc: services(
      (d) => (d.services["boss-api"]!["heal"] = { with: { label: "x" }, steps: [{ action: "verify" }] }),
    ),
    errors: [{ instancePath: "/services/boss-api/heal", keyword: "dependentRequired" }],
  },
  {
    title: "a wait step without parameters, and one with a misspelt parameter",
    kind: "services",
    doc: services((d) => {
      delete step(d, 1)["with"];
      step(d, 3)["with"] = { fro: "3s" };
    }),
    errors: [
      {
        instancePath: "/recipes/launchd-restart/steps/1",
        keyword: "required",
        params: { missingProperty: "with" },
      },
      { instancePath: "/recipes/launchd-restart/steps/3/with", keyword: "additionalProperties" },
      {
        instancePath: "/recipes/launchd-restart/steps/3/with",
        keyword: "required",
        params: { missingProperty: "for" },
      },
    ],
  },
  {
    title: "an unknown action name (reported by the semantic pass with did-you-mean, not here)",
    kind: "services",
    doc: services((d) => (step(d, 0)["action"] = "launchd.unlod")),
    errors: [],
  },
  {
    title: "an action that is not a handler name",
    kind: "services",
    doc: services((d) => (step(d, 0)["action"] = "Launchd Unload")),
    errors: [{ instancePath: "/recipes/launchd-restart/steps/0/action", keyword: "pattern" }],
  },
  {
    title: "a heartbeat without a url, with an unknown method and key",
    kind: "services",
    doc: services((d) => ((d["runtime"] as Json)["heartbeat"] = { method: "PUT", every: "1m" })),
    errors: [
      { instancePath: "/runtime/heartbeat", keyword: "required" },
      { instancePath: "/runtime/heartbeat", keyword: "additionalProperties" },
      { instancePath: "/runtime/heartbeat/method", keyword: "enum" },
    ],
  },
  {
    title: "a service id with capitals, a bad concurrency, a bad failure rate and version 2",
    kind: "services",
    doc: services((d) => {
      d.services["Boss_API"] = { probe: { type: "tcp", port: 1 } };
      (d["runtime"] as Json)["concurrency"] = 0;
      (d["defaults"] as { breaker: Json }).breaker["failureRate"] = 0;
      d["version"] = 2;
    }),
    errors: [
      { instancePath: "/services", keyword: "propertyNames" },
      { instancePath: "/runtime/concurrency", keyword: "minimum" },
      { instancePath: "/defaults/breaker/failureRate", keyword: "exclusiveMinimum" },
      { instancePath: "/version", keyword: "const" },
    ],
  },
  {
    title: "a discord channel without parameters and a log channel with a misspelt one",
    kind: "alerts",
    doc: alerts((d) => {
      delete d["channels"]!["discord"]!["with"];
      d["channels"]!["log"]!["with"] = { levle: "warn" };
    }),
    errors: [
      { instancePath: "/channels/discord", keyword: "required", params: { missingProperty: "with" } },
      { instancePath: "/channels/log/with", keyword: "additionalProperties" },
    ],
  },
  {
    title: "a plugin channel type",
    kind: "alerts",
    doc: alerts(
      (d) => (d["channels"]!["pager"] = { type: "pagerduty", with: { routingKey: "${env:PD_KEY}" } }),
    ),
    errors: [],
  },
  {
    title: "a level id starting with a digit, a rule without when, and a two-key condition",
    kind: "alerts",
    doc: alerts((d) => {
      d["levels"]!["1st"] = { channels: ["log"] };
      delete d["rules"]!["service-down-info"]!["when"];
      d["rules"]!["service-down-warning"]!["when"] = { "==": [1, 1], "!=": [1, 2] };
    }),
    errors: [
      { instancePath: "/levels", keyword: "propertyNames" },
      { instancePath: "/rules/service-down-info", keyword: "required", params: { missingProperty: "when" } },
      { instancePath: "/rules/service-down-warning/when", keyword: "maxProperties" },
    ],
  },
  {
    title: "silences with a month 13, a weekday name in full and a time 25:00",
    kind: "alerts",
    doc: alerts((d) => {
      d["silences"] = [
        { id: "a", start: "2025-13-01T00:00:00Z" },
        { id: "b", weekly: { days: ["monday"], from: "25:00", to: "02:00" } },
      ] as unknown as Record<string, Json>;
    }),
    errors: [
      { instancePath: "/silences/0/start", keyword: "pattern" },
      { instancePath: "/silences/1/weekly/days/0", keyword: "enum" },
      { instancePath: "/silences/1/weekly/from", keyword: "pattern" },
    ],
  },
  {
    title: "valid silences",
    kind: "alerts",
    doc: alerts((d) => {
      d["silences"] = [
        { id: "upgrade", start: "2025-06-01T22:00", end: "2025-06-01T23:30:00.5+02:00", pauseHealing: true },
        {
          id: "nightly",
          services: ["boss-api"],
          levels: ["INFO"],
          weekly: { days: ["sun"], from: "23:00", to: "24:00" },
        },
      ] as unknown as Record<string, Json>;
    }),
    errors: [],
  },
];

/** A standalone module source loaded like `require` would, resolving ajv from the repository. */
function loadStandalone(source: string): Record<string, Validate> {
  const module = { exports: {} as Record<string, Validate> };
  const fn = compileFunction(source, ["exports", "require", "module"], { filename: "validators.cjs" });
  fn(module.exports, createRequire(import.meta.url), module);
  return module.exports;
}

describe("schema files", () => {
  it("exist for exactly the built-in handlers of handlers-spec.md", () => {
    expect({ probe: ofKind("probe"), step: ofKind("step"), channel: ofKind("channel") }).toEqual(SPEC);
    const documents = names.filter((n) => !n.startsWith("handlers/"));
    expect(documents).toEqual(expect.arrayContaining(["alerts", "services"]));
    // Besides the rules files: rule packs' manifests and rule test files.
    expect(documents.filter((n) => !["alerts", "services", "pack", "test"].includes(n))).toEqual([]);
  });

  it.each(names)("%s declares draft 2020-12 and an $id mirroring its path", (name) => {
    const schema = readSchema(name);
    expect(schema["$schema"]).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema["$id"]).toBe(`${BASE}${name}.schema.json`);
  });

  it.each(names)("%s: every property has a description and every object forbids unknown keys", (name) => {
    const problems: string[] = [];
    const resolve = (ref: string, from: string): Json => {
      const [file, fragment = ""] = ref.split("#");
      const target =
        file === ""
          ? from
          : new URL(file as string, `${BASE}${from}.schema.json`).href.slice(BASE.length, -12);
      let node: unknown = readSchema(target);
      for (const key of fragment.split("/").filter((k) => k !== "")) node = (node as Json)[key];
      return node as Json;
    };
    const walk = (schema: unknown, at: string): void => {
      if (schema === null || typeof schema !== "object") return;
      if (Array.isArray(schema)) return schema.forEach((s, i) => walk(s, `${at}/${i}`));
      const s = schema as Json;
      if (s["type"] === "object" && s["properties"] !== undefined && s["additionalProperties"] !== false) {
        // The probe object is open on purpose: a plugin probe's parameters sit beside `type`.
        if (at !== "/$defs/probe") problems.push(`${at}: additionalProperties is not false`);
      }
      for (const [key, value] of Object.entries(s)) {
        if (key === "if" || key === "not" || key === "const" || key === "enum" || key === "default") continue;
        if (key === "properties") {
          for (const [prop, propSchema] of Object.entries(value as Json)) {
            const p = propSchema as Json;
            const described =
              p["description"] ??
              (typeof p["$ref"] === "string" ? resolve(p["$ref"], name)["description"] : undefined);
            if (typeof described !== "string" || described.length === 0)
              problems.push(`${at}/properties/${prop}: no description`);
          }
        }
        walk(value, `${at}/${key}`);
      }
    };
    walk(readSchema(name), "");
    expect(problems).toEqual([]);
  });

  it("rules files use the duration pattern of src/duration.ts", () => {
    for (const name of ["services", "alerts"]) {
      expect((readSchema(name)["$defs"] as Record<string, Json>)["duration"]?.["pattern"]).toBe(
        DURATION_PATTERN,
      );
    }
  });

  it("gives each built-in probe a branch with exactly its handler's parameters plus type and timeout", () => {
    const probe = (readSchema("services")["$defs"] as Record<string, Json>)["probe"] as Json;
    const branches = (probe["then"] as { oneOf: Json[] }).oneOf;
    expect(
      [...(probe["if"] as { properties: { type: { enum: string[] } } }).properties.type.enum].sort(),
    ).toEqual(SPEC.probe);
    expect(branches.map((b) => (b["properties"] as Record<string, Json>)["type"]?.["const"]).sort()).toEqual(
      SPEC.probe,
    );
    for (const branch of branches) {
      const type = (branch["properties"] as Record<string, Json>)["type"]?.["const"] as string;
      const handler = readSchema(`handlers/probe/${type}`);
      const params = Object.keys(handler["properties"] as Json);
      expect(Object.keys(branch["properties"] as Json)).toEqual(["type", "timeout", ...params]);
      expect(branch["required"]).toEqual(["type", ...((handler["required"] as string[] | undefined) ?? [])]);
      for (const p of params) {
        expect((branch["properties"] as Record<string, Json>)[p]).toEqual({
          $ref: `handlers/probe/${type}.schema.json#/properties/${p}`,
        });
      }
    }
  });

  it("checks `with` of every built-in step and channel against its handler schema", () => {
    const defs = (name: string): Record<string, Json> => readSchema(name)["$defs"] as Record<string, Json>;
    const checks = [
      { kind: "step", def: defs("services")["step"], tag: "action" },
      { kind: "channel", def: defs("alerts")["channel"], tag: "type" },
    ];
    for (const { kind, def, tag } of checks) {
      const tagOf = (c: { if: Json }): string =>
        String(((c.if["properties"] as Record<string, Json>)[tag] as Json)["const"]);
      const conditions = [...(def?.["allOf"] as { if: Json; then: Json }[])].sort((a, b) =>
        tagOf(a).localeCompare(tagOf(b)),
      );
      const expected = SPEC[kind as keyof typeof SPEC].map((name) => {
        const needsWith =
          ((readSchema(`handlers/${kind}/${name}`)["required"] as string[] | undefined) ?? []).length > 0;
        return {
          if: { properties: { [tag]: { const: name } }, required: [tag] },
          then: {
            properties: { with: { $ref: `handlers/${kind}/${name}.schema.json` } },
            ...(needsWith ? { required: ["with"] } : {}),
          },
        };
      });
      expect(conditions).toEqual(expected);
    }
  });
});

describe("validators", () => {
  let standalone: Record<string, Validate>;
  let standaloneSource: string;
  const runtime = new Ajv2020(AJV_OPTIONS);
  for (const name of names) runtime.addSchema(readSchema(name));
  const compiled = (name: string): Validate =>
    runtime.getSchema(`${BASE}${name}.schema.json`) as unknown as Validate;
  const errorsOf = (validate: Validate, data: unknown): SchemaError[] =>
    validate(data) ? [] : [...(validate.errors ?? [])];

  beforeAll(() => {
    standaloneSource = node("build-validators.mjs", "--stdout");
    standalone = loadStandalone(standaloneSource);
  });

  it("export one function per schema", () => {
    expect(Object.keys(standalone).sort()).toEqual(names);
  });

  it("generated/validators.cjs, when built, is what the schemas generate now (run `npm run build` if not)", () => {
    const file = `${ROOT}generated/validators.cjs`;
    if (existsSync(file)) expect(readFileSync(file, "utf8") === standaloneSource).toBe(true);
  });

  it.each(CASES.map((c) => [c.title, c] as const))("%s", (_title, c) => {
    const errors = validateSchema(c.kind, c.doc);
    if (c.errors.length === 0) expect(errors).toEqual([]);
    for (const expected of c.errors) expect(errors).toContainEqual(expect.objectContaining(expected));
    // The precompiled (standalone) and runtime-compiled validators agree error for error.
    expect(errorsOf(standalone[c.kind] as Validate, c.doc)).toEqual(errorsOf(compiled(c.kind), c.doc));
    expect(errors).toEqual(errorsOf(compiled(c.kind), c.doc));
  });

  it.each(Object.entries(SAMPLES))(
    "handler %s accepts a sample and rejects an unknown key",
    (key, sample) => {
      const [kind, name] = key.split("/") as ["probe" | "step" | "channel", string];
      expect(validateHandlerParams(name, sample, kind)).toEqual([]);
      expect(validateHandlerParams(key, sample)).toEqual([]);
      const bad = { ...sample, bogus: 1 };
      const errors = validateHandlerParams(name, bad, kind);
      expect(errors).toContainEqual(
        expect.objectContaining({
          instancePath: "",
          keyword: "additionalProperties",
          params: { additionalProperty: "bogus" },
        }),
      );
      const schemaName = `handlers/${key}`;
      expect(errorsOf(standalone[schemaName] as Validate, bad)).toEqual(errorsOf(compiled(schemaName), bad));
    },
  );

  it("has a sample for every handler schema", () => {
    expect(
      Object.keys(SAMPLES)
        .map((k) => `handlers/${k}`)
        .sort(),
    ).toEqual(handlerNames);
  });

  it("finds handler schemas by unique name, needs the kind for exec and http, and knows no plugin", () => {
    expect(validateHandlerParams("wait", {})).toContainEqual(
      expect.objectContaining({ keyword: "required" }),
    );
    expect(validateHandlerParams("launchd.unload", { label: "x" })).toEqual([]);
    expect(validateHandlerParams("redis", {})).toBeUndefined();
    expect(validateHandlerParams("exec", {}, "channel")).toBeUndefined();
    expect(() => validateHandlerParams("exec", {})).toThrow(/ambiguous/);
    expect(validateHandlerParams("exec", { command: ["x"], outputLimit: 1 }, "step")).toEqual([]);
    expect(validateHandlerParams("exec", { command: ["x"], outputLimit: 1 }, "probe")).toHaveLength(1);
  });

  it("accept templates where the spec allows them and nowhere a number is required", () => {
    expect(validateHandlerParams("tcp", { port: "${{ params.port }}" })).toEqual([]);
    expect(validateHandlerParams("tcp", { port: "3002" })).not.toEqual([]);
    expect(validateHandlerParams("wait", { for: "${{ params.settle }}" })).toEqual([]);
    expect(validateHandlerParams("verify", { successes: "${{ params.n }}" })).not.toEqual([]);
  });
});

describe("raw-types.ts", () => {
  it("is what scripts/gen-types.mjs generates from the schemas now (run `npm run gen:types` if not)", () => {
    const fresh = node("gen-types.mjs", "--stdout");
    const committed = readFileSync(`${ROOT}src/config/raw-types.ts`, "utf8");
    expect(fresh === committed).toBe(true);
  });
});

describe("upkeep schema", () => {
  let out = "";
  let err = "";
  const capture = (): void => {
    out = "";
    err = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((out += String(chunk)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => ((err += String(chunk)), true));
  };
  afterEach(() => vi.restoreAllMocks());

  it("prints the services schema by default and any schema by name", async () => {
    capture();
    expect(await schemaCommand([])).toBe(0);
    expect((JSON.parse(out) as Json)["$id"]).toBe(`${BASE}services.schema.json`);
    capture();
    expect(await schemaCommand(["handlers/wait"])).toBe(0);
    expect((JSON.parse(out) as Json)["$id"]).toBe(`${BASE}handlers/step/wait.schema.json`);
    capture();
    expect(await schemaCommand(["handlers/step/launchd.unload"])).toBe(0);
    expect(out).toBe(readFileSync(`${SCHEMA_DIR}handlers/step/launchd.unload.schema.json`, "utf8"));
  });

  it("exits 2 with a did-you-mean for an unknown or ambiguous name", async () => {
    capture();
    expect(await schemaCommand(["alert"])).toBe(2);
    expect(err).toContain('did you mean "alerts"?');
    expect(out).toBe("");
    capture();
    expect(await schemaCommand(["handlers/exec"])).toBe(2);
    expect(err).toContain('"handlers/probe/exec" or "handlers/step/exec"');
    capture();
    expect(await schemaCommand(["--bogus"])).toBe(2);
  });

  it("lists names and prints help", async () => {
    capture();
    expect(await schemaCommand(["--list"])).toBe(0);
    expect(out.trim().split("\n")).toEqual(names);
    capture();
    expect(await schemaCommand(["--help"])).toBe(0);
    expect(out).toContain("Usage: upkeep schema");
  });
});
