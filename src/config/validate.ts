/**
 * Rules dir -> diagnostics, and a Config when there are no errors. `upkeep run` calls this at every cold
 * start, so the valid path stays lean: precompiled validators, and hint machinery (schema files,
 * edit distance) loaded only when something is wrong.
 */
import { stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { HandlerKind } from "../actions/types.js";
import { envFilePath, withEnvFile } from "./env-file.js";
import { type Diagnostic, DiagnosticCollector, parsePointer } from "./diagnostics.js";
import { loadYamlFile, type ReadResult, type YamlFile } from "./load.js";
import type { Config } from "./model.js";
import type { RawAlertsFile, RawServicesFile } from "./raw-types.js";
import { schemaFindings } from "./schema-errors.js";
import { handlerSchemaName, validateSchema } from "./schema-validate.js";
import { findRefs } from "./template.js";
import { checkAlerts, checkServices, type HandlerCatalog, serviceIdsOf } from "./semantic.js";
import type { Finding } from "./diagnostics.js";
import type { SourceRef } from "./model.js";
import type { ApplyResult, PackInfo } from "../packs/apply.js";

export interface LoadRulesOptions {
  /** Environment for `${env:NAME}` checks and runtime paths; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** An unset `${env:NAME}` is an error instead of a warning. */
  readonly requireEnv?: boolean;
  /** --state-dir: wins over runtime.stateDir. */
  readonly stateDir?: string;
  /** Which handlers exist; default the registry (built-ins and registered plugins). */
  readonly handlers?: HandlerCatalog;
  /** Build the Config when there are no errors (default true); `validate` only needs the diagnostics. */
  readonly normalize?: boolean;
  /** A pack missing from rules.lock or different from it is an error (`validate --frozen-lockfile`). */
  readonly frozenLockfile?: boolean;
}

export interface LoadRulesResult {
  /** Present only when there are no errors (warnings allowed). */
  readonly config?: Config;
  /** Sorted by file, line, column; no duplicates. */
  readonly diagnostics: Diagnostic[];
  /** The packs the rules use, as loaded (only when services.yaml has `packs:`). */
  readonly packs?: readonly PackInfo[];
}

export const SERVICES_FILE = "services.yaml";
export const ALERTS_FILE = "alerts.yaml";

export async function loadRules(rulesDir: string, options: LoadRulesOptions = {}): Promise<LoadRulesResult> {
  let env = options.env ?? process.env;
  const servicesFile = join(rulesDir, SERVICES_FILE);
  const alertsFile = join(rulesDir, ALERTS_FILE);
  const [servicesRead, alertsRead, handlers] = await Promise.all([
    loadYamlFile(servicesFile, servicesFile),
    loadYamlFile(alertsFile, alertsFile),
    options.handlers ?? registryCatalog(),
  ]);
  const collector = new DiagnosticCollector();

  if (!servicesRead.ok) {
    collector.add(await notFound(rulesDir, servicesFile, servicesRead));
  }
  const alertsMissing = !alertsRead.ok && alertsRead.error.code === "ENOENT";
  if (!alertsRead.ok && !alertsMissing) collector.add(await notFound(rulesDir, alertsFile, alertsRead));

  const services = servicesRead.ok ? servicesRead.yaml : undefined;
  const alerts = alertsRead.ok ? alertsRead.yaml : undefined;
  // runtime.envFile supplies `${env:NAME}` values the real environment lacks (scheduled runs).
  const envFile = services?.usable === true ? envFileSpec(services.value) : undefined;
  if (services !== undefined && envFile !== undefined) {
    const merged = withEnvFile(env, envFilePath(envFile, resolve(rulesDir)));
    env = merged.env;
    if (merged.problem !== undefined) {
      collector.add(
        services.toDiagnostic({
          pointer: "/runtime/envFile",
          code: "env-file",
          severity: "warning",
          message: merged.problem,
          hint: "create it with one KEY=VALUE per line and chmod 600; variables set in the environment win",
        }),
      );
    }
  }
  // Plugins register handlers, so they load before any handler name is checked.
  const plugins = services?.usable === true ? pluginSpecs(services.value) : [];
  if (services !== undefined && plugins.length > 0) {
    const { loadPlugins } = await import("./plugins.js");
    for (const finding of await loadPlugins(plugins, resolve(rulesDir)))
      collector.add(services.toDiagnostic(finding));
  }
  // Packs merge into the documents before any check, so the checks see (and report on) the merged
  // rules; `locate` sends each finding back to the file, consumer's or pack's, the value came from.
  const packs =
    services?.usable === true && usesPacks(services.value)
      ? await applyPacks(rulesDir, services, alerts, options)
      : undefined;
  if (packs !== undefined) collector.addAll(packs.diagnostics);
  const semantic = { handlers, env, requireEnv: options.requireEnv === true };
  const servicesValue = packs === undefined ? services?.value : packs.merged.services;
  const alertsValue = packs === undefined ? alerts?.value : packs.merged.alerts;
  const mapped =
    (kind: "services" | "alerts", own: YamlFile | undefined) =>
    (f: Finding): Diagnostic => {
      if (packs === undefined) return (own as YamlFile).toDiagnostic(f);
      const at = packs.merged.locate(kind, f.pointer);
      return at.yaml.toDiagnostic({ ...f, pointer: at.pointer });
    };
  if (packs === undefined || packs.complete) {
    if (services !== undefined) {
      check(
        services,
        servicesValue,
        "services",
        collector,
        (value) => checkServices(value, semantic),
        mapped("services", services),
      );
    }
    const alertsYaml = alerts ?? (alertsValue === undefined ? undefined : services);
    if (alertsYaml !== undefined && alertsValue !== undefined) {
      const ids = services?.usable === true ? serviceIdsOf(servicesValue) : undefined;
      check(
        alerts ?? { ...alertsYaml, diagnostics: [], usable: true },
        alertsValue,
        "alerts",
        collector,
        (value) => checkAlerts(value, ids, semantic),
        mapped("alerts", alerts),
      );
    }
  }

  const diagnostics = collector.sorted();
  const withPacks = packs === undefined ? {} : { packs: packs.packs };
  if (collector.hasErrors || services === undefined || options.normalize === false)
    return { diagnostics, ...withPacks };
  const { normalize } = await import("./normalize.js");
  const config = normalize({
    rulesDir,
    services: servicesValue as RawServicesFile,
    servicesFile,
    ...(alertsValue === undefined ? {} : { alerts: alertsValue as RawAlertsFile, alertsFile }),
    env,
    ...(options.stateDir === undefined ? {} : { overrides: { stateDir: options.stateDir } }),
    ...(packs === undefined
      ? {}
      : { sources: packSources(packs, servicesFile, alertsFile, alerts !== undefined) }),
  });
  return { config, diagnostics, ...withPacks };
}

function usesPacks(doc: unknown): boolean {
  if (doc === null || typeof doc !== "object") return false;
  return Object.hasOwn(doc, "packs") || Object.hasOwn(doc, "overrides");
}

async function applyPacks(
  rulesDir: string,
  services: YamlFile,
  alerts: YamlFile | undefined,
  options: LoadRulesOptions,
): Promise<ApplyResult> {
  const [apply, registry, { readPackageVersion }] = await Promise.all([
    import("../packs/apply.js"),
    import("../actions/registry.js"),
    import("../cli/version.js"),
  ]);
  return apply.applyPacks({
    rulesDir,
    servicesYaml: services,
    ...(alerts === undefined ? {} : { alertsYaml: alerts }),
    isLocalStep: (action) => registry.getHandler(action, "step")?.sideEffects === "local",
    upkeepVersion: readPackageVersion(),
    ...(options.frozenLockfile === undefined ? {} : { frozenLockfile: options.frozenLockfile }),
  });
}

/** Source refs of pack-provided values point into the pack's files (for `explain` and diagnostics). */
function packSources(packs: ApplyResult, servicesFile: string, alertsFile: string, hasAlertsFile: boolean) {
  return {
    remap: (ref: SourceRef): SourceRef => {
      const kind = ref.file === servicesFile ? "services" : ref.file === alertsFile ? "alerts" : undefined;
      if (kind === undefined) return ref;
      const at = packs.merged.locate(kind, ref.pointer);
      return { file: at.yaml.file, pointer: at.pointer };
    },
    files: [servicesFile, ...(hasAlertsFile ? [alertsFile] : []), ...packs.files],
  };
}

function pluginSpecs(doc: unknown): unknown[] {
  if (doc === null || typeof doc !== "object") return [];
  const runtime = (doc as Record<string, unknown>)["runtime"];
  if (runtime === null || typeof runtime !== "object") return [];
  const plugins = (runtime as Record<string, unknown>)["plugins"];
  return Array.isArray(plugins) ? plugins : [];
}

function check(
  yaml: YamlFile,
  value: unknown,
  kind: "services" | "alerts",
  collector: DiagnosticCollector,
  semantic: (value: unknown) => ReturnType<typeof checkServices>,
  toDiagnostic: (finding: Finding) => Diagnostic,
): void {
  collector.addAll(yaml.diagnostics);
  if (!yaml.usable) return;
  const errors = validateSchema(kind, value).filter((e) => !checkedAtUse(value, e.instancePath));
  if (errors.length > 0) {
    for (const finding of schemaFindings(errors, value, { kind })) collector.add(toDiagnostic(finding));
  }
  for (const finding of semantic(value)) collector.add(toDiagnostic(finding));
}

/**
 * A recipe step value that is exactly one `${{ params.NAME }}` takes the type of what each service
 * passes (a list stays a list), so the schema cannot judge it as written: checkRecipeUse validates it
 * with each service's value instead, at the place that value is written.
 */
function checkedAtUse(doc: unknown, instancePath: string): boolean {
  if (!instancePath.startsWith("/recipes/")) return false;
  let node = doc;
  for (const segment of parsePointer(instancePath)) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, segment)) return false;
    node = (node as Record<string, unknown>)[segment];
    if (typeof node === "string") return isWholeParam(node);
  }
  return false;
}

function isWholeParam(text: string): boolean {
  const refs = findRefs(text);
  const only = refs[0];
  return (
    refs.length === 1 &&
    only !== undefined &&
    only.kind === "expr" &&
    only.start === 0 &&
    only.end === text.length &&
    only.path[0] === "params"
  );
}

async function notFound(
  rulesDir: string,
  file: string,
  read: ReadResult & { ok: false },
): Promise<Diagnostic> {
  const kind = await stat(rulesDir).then(
    (s) => (s.isDirectory() ? "dir" : "file"),
    () => "missing",
  );
  const dirExists = kind === "dir";
  const code = read.error.code;
  const message =
    kind === "file"
      ? `"${rulesDir}" is a file, not a rules directory`
      : !dirExists
        ? `rules directory "${rulesDir}" does not exist`
        : code === "ENOENT"
          ? `"${file}" does not exist`
          : `cannot read "${file}": ${read.error.message}`;
  const yml = file.replace(/\.yaml$/, ".yml");
  const ymlExists =
    dirExists &&
    code === "ENOENT" &&
    (await stat(yml).then(
      (s) => s.isFile(),
      () => false,
    ));
  const hint =
    kind === "file"
      ? `pass the folder that holds services.yaml: --rules ${dirname(rulesDir)}`
      : ymlExists
        ? `found "${basename(yml)}": upkeep reads services.yaml (and alerts.yaml); rename it`
        : "pass --rules DIR or set UPKEEP_RULES; the directory needs services.yaml (alerts.yaml is optional)";
  return {
    severity: "error",
    code: "rules-not-found",
    message,
    file: dirExists ? file : rulesDir,
    line: 1,
    column: 1,
    pointer: "",
    hint,
  };
}

/** The handler registry as a catalog; imported here so `validate` pays for it only once. */
async function registryCatalog(): Promise<HandlerCatalog> {
  const registry = await import("../actions/registry.js");
  return {
    names: (kind: HandlerKind) => registry.listHandlers(kind),
    pluginSchema: (kind: HandlerKind, name: string) =>
      handlerSchemaName(name, kind) === undefined ? registry.getHandler(name, kind)?.schema : undefined,
  };
}

function envFileSpec(doc: unknown): string | undefined {
  const runtime = (doc as { runtime?: { envFile?: unknown } } | null)?.runtime;
  return typeof runtime?.envFile === "string" ? runtime.envFile : undefined;
}
