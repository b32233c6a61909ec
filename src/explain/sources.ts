/**
 * Where each effective value of a service came from. The Config only keeps merged values, so this
 * re-reads the rules files (YAML with positions) and looks for the key, most specific layer first:
 *   override  services.yaml /overrides/<id>/...      (changes to a pack's service)
 *   service   the service's own entry                (its SourceRef: services.yaml, or a pack file)
 *   recipe    /recipes/<name>/...                    (steps, recipe parameter defaults)
 *   defaults  services.yaml /defaults/...
 *   default   built into upkeep (src/config/normalize.ts DEFAULTS, or derived from other values)
 * A value found in a file other than the rules' own services.yaml is reported as `pack`.
 */
import { basename, dirname, isAbsolute, relative, resolve } from "node:path";
import { parsePointer } from "../config/diagnostics.js";
import { loadYamlFile, type YamlFile } from "../config/load.js";
import type { Config, ServiceConfig, SourceRef } from "../config/model.js";

export type SourceKind = "default" | "defaults" | "recipe" | "service" | "pack" | "override" | "alerts";

export interface Origin {
  readonly kind: SourceKind;
  /** Recipe or pack name. */
  readonly name?: string;
  /** As shown: relative to the working directory when inside it. */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly pointer?: string;
  readonly note?: string;
}

export interface RulesFiles {
  readonly servicesFile: string;
  /** undefined when the rules have no alerts.yaml. */
  readonly alertsFile: string | undefined;
  /** The rules' own files (services.yaml, alerts.yaml); anything else is a pack's. */
  readonly own: readonly string[];
  readonly get: (file: string) => YamlFile | undefined;
}

/** Loads services.yaml, alerts.yaml and every other file a SourceRef of the config names. */
export async function loadRulesFiles(config: Config): Promise<RulesFiles> {
  const refs: SourceRef[] = [
    ...config.services.flatMap((s) => [s.source, s.probe.source, ...s.heal.steps.map((st) => st.source)]),
    ...config.alerts.rules.map((r) => r.source),
    ...Object.values(config.alerts.channels).map((c) => c.source),
  ];
  const paths = [...new Set([...config.files, ...refs.map((r) => r.file)])].filter((f) => f !== "");
  const loaded = await Promise.all(paths.map(async (p) => [p, await loadYamlFile(p, p)] as const));
  const files = new Map<string, YamlFile>();
  for (const [path, read] of loaded) if (read.ok && read.yaml.usable) files.set(path, read.yaml);
  // config.files: services.yaml, then alerts.yaml when present, then the packs' files.
  const servicesFile = config.files[0] ?? "";
  const second = config.files[1];
  const alertsFile =
    second !== undefined &&
    resolve(dirname(second)) === resolve(dirname(servicesFile)) &&
    basename(second) === "alerts.yaml"
      ? second
      : undefined;
  const own = alertsFile === undefined ? [servicesFile] : [servicesFile, alertsFile];
  return { servicesFile, alertsFile, own, get: (file) => files.get(file) };
}

export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

function has(value: unknown, segments: readonly string[]): boolean {
  let node = value;
  for (const key of segments) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

/** The origin of `segments` in `file`, or undefined when the key is not there. */
export function locate(
  files: RulesFiles,
  file: string,
  segments: readonly string[],
  kind: SourceKind,
  name?: string,
): Origin | undefined {
  const yaml = files.get(file);
  if (yaml === undefined || !has(yaml.value, segments)) return undefined;
  const pointer = segments.map((s) => `/${s.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
  const { line, column } = yaml.positionOf(pointer, { key: true });
  return { kind, ...(name === undefined ? {} : { name }), file: displayPath(file), line, column, pointer };
}

/** A pack's name: the namespace of a pack-provided id (`ns/id`), else its file. */
export function packName(id: string, file: string): string {
  const slash = id.indexOf("/");
  return slash > 0 ? id.slice(0, slash) : displayPath(file);
}

/** The origin of a SourceRef itself (a step, an alert rule, a channel); `owner` is the service or rule id. */
export function originOfRef(files: RulesFiles, ref: SourceRef, fallback: SourceKind, owner = ""): Origin {
  const segments = parsePointer(ref.pointer);
  const recipe = segments[0] === "recipes" ? segments[1] : undefined;
  const local = files.own.includes(ref.file);
  const kind: SourceKind = !local ? "pack" : recipe !== undefined ? "recipe" : fallback;
  const name = kind === "recipe" ? recipe : kind === "pack" ? packName(owner, ref.file) : undefined;
  return (
    locate(files, ref.file, segments, kind, name) ?? {
      kind,
      ...(name === undefined ? {} : { name }),
      file: displayPath(ref.file),
      pointer: ref.pointer,
    }
  );
}

/** Looks up a service setting through the layers; `defaultsPath` is its place under `defaults:`, if any. */
export function serviceSetting(
  files: RulesFiles,
  service: ServiceConfig,
  path: readonly string[],
  defaultsPath?: readonly string[],
  note?: string,
): Origin {
  const own = parsePointer(service.source.pointer);
  const fromPack = service.source.file !== files.servicesFile;
  return (
    locate(files, files.servicesFile, ["overrides", service.id, ...path], "override") ??
    locate(
      files,
      service.source.file,
      [...own, ...path],
      fromPack ? "pack" : "service",
      fromPack ? packName(service.id, service.source.file) : undefined,
    ) ??
    (fromPack ? undefined : unmappedPack(files, service)) ??
    (defaultsPath === undefined
      ? undefined
      : locate(files, files.servicesFile, ["defaults", ...defaultsPath], "defaults")) ?? {
      kind: "default",
      ...(note === undefined ? {} : { note }),
    }
  );
}

/**
 * A pack service whose SourceRef still points at the consumer's services.yaml (where it is not written):
 * its values came from the pack named by the id's namespace, or from `defaults:` under it.
 */
function unmappedPack(files: RulesFiles, service: ServiceConfig): Origin | undefined {
  const slash = service.id.indexOf("/");
  if (slash < 0 || has(files.get(files.servicesFile)?.value, ["services", service.id])) return undefined;
  const ns = service.id.slice(0, slash);
  const packs = (files.get(files.servicesFile)?.value as { packs?: unknown } | undefined)?.packs;
  const index = Array.isArray(packs) ? packs.findIndex((p) => (p as { as?: unknown } | null)?.as === ns) : -1;
  const at = index < 0 ? undefined : locate(files, files.servicesFile, ["packs", String(index)], "pack", ns);
  return {
    ...(at ?? { kind: "pack" as const }),
    name: ns,
    note: "from the pack (its own file is not mapped), or its defaults",
  };
}
