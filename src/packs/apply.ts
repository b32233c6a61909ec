/**
 * The packs step of loading rules (DESIGN.md: load -> resolve packs -> validate -> normalize). Imported
 * lazily by src/config/validate.ts only when services.yaml has `packs:` or `overrides:`, so a cold
 * `upkeep run` of rules without packs loads none of this.
 */
import { join, relative, resolve } from "node:path";
import type { Diagnostic, Finding } from "../config/diagnostics.js";
import { loadYamlFile, type YamlFile } from "../config/load.js";
import { schemaFindings } from "../config/schema-errors.js";
import { capabilitiesUsed, type IsLocalStep, undeclared, ungranted } from "./capabilities.js";
import { lockDifference, type LockEntry, readLock } from "./lockfile.js";
import { checkManifest, MANIFEST_FILE, type PackManifest, supportsUpkeep } from "./manifest.js";
import { mergePacks, type MergeResult } from "./merge.js";
import { type Contribution, isRec, namespacePack, type PackFile } from "./namespace.js";
import { renderPackParams } from "./render.js";
import { resolvePack } from "./source.js";

export interface ApplyInput {
  /** As the user typed it: pack files are shown relative to it, like the rules files. */
  readonly rulesDir: string;
  readonly servicesYaml: YamlFile;
  readonly alertsYaml?: YamlFile;
  readonly isLocalStep: IsLocalStep;
  readonly upkeepVersion: string;
  /** A pack missing from rules.lock or different from it is an error (else a warning, and only with a lock). */
  readonly frozenLockfile?: boolean;
}

export interface PackInfo {
  readonly index: number;
  readonly as: string;
  readonly use: string;
  readonly dir: string;
  readonly manifest: PackManifest;
  /** Lock status: "locked" (matches), "changed", "unlocked" (no entry), or "no-lock" (no rules.lock). */
  lock?: "locked" | "changed" | "unlocked" | "no-lock";
}

export interface ApplyResult {
  readonly diagnostics: Diagnostic[];
  /** False when a pack could not be loaded: the merged rules would only repeat that error. */
  readonly complete: boolean;
  readonly merged: MergeResult;
  readonly packs: PackInfo[];
  /** Every pack file read (manifests and rules files). */
  readonly files: string[];
}

type Rec = Record<string, unknown>;

export async function applyPacks(input: ApplyInput): Promise<ApplyResult> {
  const diagnostics: Diagnostic[] = [];
  const consumer = (f: Finding): void => void diagnostics.push(input.servicesYaml.toDiagnostic(f));
  const doc = input.servicesYaml.value as Rec;
  const entries = Array.isArray(doc["packs"]) ? (doc["packs"] as unknown[]) : [];
  const contributions: Contribution[] = [];
  const packs: PackInfo[] = [];
  const files: string[] = [];
  let complete = true;
  const seen = new Set<string>();

  for (const [index, entry] of entries.entries()) {
    if (!isRec(entry) || typeof entry["use"] !== "string" || typeof entry["as"] !== "string") continue;
    const use = entry["use"];
    const as = entry["as"];
    if (seen.has(as)) {
      consumer({
        pointer: `/packs/${index}/as`,
        code: "duplicate-id",
        message: `two packs use the namespace "${as}"`,
        hint: "give each pack entry its own `as:`",
      });
      complete = false;
      continue;
    }
    seen.add(as);
    const loaded = await loadPack(input, index, use, as, entry, diagnostics, files);
    if (loaded === undefined) {
      complete = false;
      continue;
    }
    contributions.push(loaded.contribution);
    packs.push(loaded.info);
  }

  if (packs.length > 0) await checkLock(input, packs, consumer);
  const merged = mergePacks({
    services: doc,
    servicesYaml: input.servicesYaml,
    contributions,
    ...(input.alertsYaml?.usable === true && isRec(input.alertsYaml.value)
      ? { alerts: input.alertsYaml.value, alertsYaml: input.alertsYaml }
      : {}),
  });
  for (const { yaml, finding } of merged.findings) {
    // Overrides of a pack that failed to load would only repeat its error.
    if (!complete && finding.code === "unknown-override") continue;
    diagnostics.push(yaml.toDiagnostic(finding));
  }
  return { diagnostics, complete, merged, packs, files };
}

async function loadPack(
  input: ApplyInput,
  index: number,
  use: string,
  as: string,
  entry: Rec,
  diagnostics: Diagnostic[],
  files: string[],
): Promise<{ contribution: Contribution; info: PackInfo } | undefined> {
  const consumer = (f: Finding): void => void diagnostics.push(input.servicesYaml.toDiagnostic(f));
  const resolved = await resolvePack(use, resolve(input.rulesDir));
  if (!resolved.ok) {
    const { code, message, hint } = resolved;
    consumer({ pointer: `/packs/${index}/use`, code, message, ...(hint === undefined ? {} : { hint }) });
    return undefined;
  }
  // Shown the way the rules dir was given: rules/../packs/web/services.yaml, or the absolute npm folder.
  const shown = resolved.source.kind === "local" ? join(input.rulesDir, resolved.source.path) : resolved.dir;
  const read = async (name: string): Promise<YamlFile | undefined> => {
    const r = await loadYamlFile(join(resolved.dir, name), join(shown, name));
    if (!r.ok) return undefined;
    files.push(join(resolved.dir, name));
    diagnostics.push(...r.yaml.diagnostics);
    return r.yaml;
  };

  const manifestYaml = await read(MANIFEST_FILE);
  if (manifestYaml === undefined) return undefined;
  const checked = checkManifest(manifestYaml);
  for (const f of checked.findings) diagnostics.push(manifestYaml.toDiagnostic(f));
  const manifest = checked.manifest;
  if (manifest === undefined || checked.validateParams === undefined) return undefined;
  if (!supportsUpkeep(manifest, input.upkeepVersion)) {
    consumer({
      pointer: `/packs/${index}/use`,
      code: "pack-incompatible",
      message: `pack ${manifest.name}@${manifest.version} supports upkeep ${manifest.upkeep}, this is upkeep ${input.upkeepVersion}`,
      hint: "use a version of the pack made for this upkeep, or upgrade upkeep",
    });
    return undefined;
  }

  const given = entry["with"] ?? {};
  const { values, errors } = checked.validateParams(given);
  if (errors.length > 0) {
    const schema = (manifest.params ?? { type: "object" }) as Rec;
    for (const f of schemaFindings(errors, given, { schema }, `/packs/${index}/with`)) {
      consumer({ ...f, code: "pack-param", message: `pack "${as}": ${f.message}` });
    }
    return undefined;
  }

  const servicesYaml = await read("services.yaml");
  const alertsYaml = await read("alerts.yaml");
  if (servicesYaml?.usable === false || alertsYaml?.usable === false) return undefined;
  const render = (yaml: YamlFile | undefined): PackFile | undefined => {
    if (yaml === undefined) return undefined;
    const r = renderPackParams(yaml.value, values, checked.paramNames);
    for (const f of r.findings) diagnostics.push(yaml.toDiagnostic(f));
    for (const name of r.unset) {
      consumer({
        pointer: `/packs/${index}/with`,
        code: "pack-param",
        message: `pack "${as}" reads pack.params.${name}, which has no value (not passed and no default)`,
        hint: `pass it: with: { ${name}: ... }`,
      });
    }
    return r.findings.length > 0 || r.unset.length > 0 ? undefined : { yaml, value: r.value };
  };
  const services = render(servicesYaml);
  const alerts = render(alertsYaml);
  if (
    (servicesYaml !== undefined && services === undefined) ||
    (alertsYaml !== undefined && alerts === undefined)
  )
    return undefined;

  const declared = manifest.capabilities ?? [];
  if (services !== undefined) {
    for (const f of undeclared(capabilitiesUsed(services.value, input.isLocalStep), declared, manifest.name))
      diagnostics.push(services.yaml.toDiagnostic(f));
  }
  const trust = Array.isArray(entry["trust"]) ? entry["trust"].filter((t) => typeof t === "string") : [];
  const refused = ungranted(declared, trust, { index, as, use, hasTrust: entry["trust"] !== undefined });
  if (refused !== undefined) consumer(refused);

  const contribution = namespacePack(as, services, alerts);
  for (const { yaml, finding } of contribution.findings) diagnostics.push(yaml.toDiagnostic(finding));
  return {
    contribution,
    info: { index, as, use, dir: resolved.dir, manifest },
  };
}

async function checkLock(
  input: ApplyInput,
  packs: PackInfo[],
  consumer: (f: Finding) => void,
): Promise<void> {
  const frozen = input.frozenLockfile === true;
  const read = await readLock(resolve(input.rulesDir));
  if (!read.ok) {
    for (const p of packs) p.lock = "no-lock";
    if (!frozen && read.missing) return;
    consumer({
      pointer: "/packs",
      code: "pack-lock",
      severity: frozen ? "error" : "warning",
      message: read.missing ? `--frozen-lockfile: ${read.message}` : read.message,
      hint: "run `upkeep pack lock` and commit rules.lock",
      atKey: true,
    });
    return;
  }
  const { hashPack } = await import("./lockfile.js");
  for (const p of packs) {
    const current = {
      use: p.use,
      name: p.manifest.name,
      version: p.manifest.version,
      integrity: await hashPack(p.dir),
    };
    const entry = Object.hasOwn(read.lock.packs, p.as) ? (read.lock.packs[p.as] as LockEntry) : undefined;
    const difference = lockDifference(entry, current);
    p.lock = difference === undefined ? "locked" : entry === undefined ? "unlocked" : "changed";
    if (difference === undefined) continue;
    consumer({
      pointer: `/packs/${p.index}`,
      code: "pack-lock",
      severity: frozen ? "error" : "warning",
      message: `pack "${p.as}" (${p.manifest.name}@${p.manifest.version}) does not match rules.lock: ${difference}`,
      hint: "review the pack's changes, then run `upkeep pack lock` and commit rules.lock",
    });
  }
}

/** The lock entry for a pack as it is now. */
export async function lockEntryOf(rulesDir: string, p: PackInfo): Promise<LockEntry> {
  const { hashPack } = await import("./lockfile.js");
  return {
    use: p.use,
    resolved: relative(resolve(rulesDir), p.dir).split("\\").join("/"),
    name: p.manifest.name,
    version: p.manifest.version,
    integrity: await hashPack(p.dir),
  };
}
