/**
 * Renders the LaunchAgent from launchd/upkeep.plist.template. The template is parsed with the plist
 * library and the placeholders are filled in the parsed values, so the XML is always produced (and
 * escaped) by the library, whatever characters a path holds. The status page's LaunchAgent
 * (`install --serve`) is the same filled template with the keys of a job kept alive instead of a periodic one.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { UpkeepError } from "../errors.js";
import { refuseControlCharacters, type RunnerSpec } from "./runner.js";
import { serveArgs, type ServeJob } from "./serve-job.js";

export const DEFAULT_LABEL = "dev.upkeep.runner";
export const PLIST_MODE = 0o644;

/** A placeholder value: a string or number fills `{{NAME}}`, a list fills `{{...NAME}}`. */
export type TemplateValue = string | number | readonly string[];
type PlistValue = import("plist").PlistValue;

export function templatePath(): string {
  return fileURLToPath(new URL("../../launchd/upkeep.plist.template", import.meta.url));
}

/** Labels name files and launchd targets: reverse-DNS characters only. */
export function checkLabel(label: string): string | undefined {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(label)
    ? undefined
    : `invalid label "${label}": use letters, digits, dots, dashes and underscores (e.g. ${DEFAULT_LABEL})`;
}

/** The status page's job label for the tick's label. */
export const serveLabel = (label: string): string => `${label}.serve`;

export function launchAgentsDir(home: string): string {
  return join(home, "Library", "LaunchAgents");
}

export function plistFile(home: string, label: string): string {
  return join(launchAgentsDir(home), `${label}.plist`);
}

export function launchdLogDir(home: string): string {
  return join(home, "Library", "Logs", "upkeep");
}

export function logFiles(home: string, label: string): { stdout: string; stderr: string } {
  const dir = launchdLogDir(home);
  return { stdout: join(dir, `${label}.stdout.log`), stderr: join(dir, `${label}.stderr.log`) };
}

export function plistValues(spec: RunnerSpec, label: string): Record<string, TemplateValue> {
  return {
    LABEL: label,
    NODE: spec.nodePath,
    CLI: spec.cliPath,
    RULES_DIR: spec.rulesDir,
    EXTRA_ARGS: spec.extraArgs,
    INTERVAL_SECONDS: spec.intervalSeconds,
    WORKING_DIRECTORY: spec.workingDirectory,
    PATH: spec.path,
    HOME: spec.home,
    LOG_DIR: launchdLogDir(spec.home),
  };
}

const WHOLE = /^\{\{([A-Z_]+)\}\}$/;
const SPREAD = /^\{\{\.\.\.([A-Z_]+)\}\}$/;
const INSIDE = /\{\{([A-Z_]+)\}\}/g;

/** Fills placeholders in a parsed plist value. Unknown or mistyped placeholders are bugs: they throw. */
export function fillTemplate(value: PlistValue, values: Readonly<Record<string, TemplateValue>>): PlistValue {
  const lookup = (name: string): TemplateValue => {
    if (!Object.hasOwn(values, name))
      throw new UpkeepError("E_INTERNAL", `plist template: no value for {{${name}}}`);
    return values[name] as TemplateValue;
  };
  const scalar = (name: string): string | number => {
    const v = lookup(name);
    if (typeof v === "object") throw new UpkeepError("E_INTERNAL", `plist template: {{${name}}} is a list`);
    return v;
  };
  const fill = (v: PlistValue): PlistValue => {
    if (typeof v === "string") {
      const whole = WHOLE.exec(v);
      if (whole !== null) return scalar(whole[1] as string);
      return v.replace(INSIDE, (_, name: string) => String(scalar(name)));
    }
    if (Array.isArray(v)) {
      return v.flatMap((item): PlistValue[] => {
        const spread = typeof item === "string" ? SPREAD.exec(item) : null;
        if (spread === null) return [fill(item)];
        const list = lookup(spread[1] as string);
        if (typeof list !== "object")
          throw new UpkeepError("E_INTERNAL", `plist template: {{...${spread[1]}}} is not a list`);
        return [...list];
      });
    }
    if (v !== null && typeof v === "object" && !(v instanceof Date) && !(v instanceof Uint8Array)) {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, fill(item)]));
    }
    return v;
  };
  return fill(value);
}

/**
 * The plist library escapes `<&>` but writes control characters as they are, and XML 1.0 forbids most
 * of them (launchd would not load the file; a newline would survive, but is refused like everywhere else).
 */
function refuseControlInPlist(value: PlistValue): void {
  if (typeof value === "string") refuseControlCharacters("the value", value, "a launchd plist");
  else if (Array.isArray(value)) value.forEach(refuseControlInPlist);
  else if (
    value !== null &&
    typeof value === "object" &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array)
  )
    for (const [key, item] of Object.entries(value)) {
      refuseControlInPlist(key);
      refuseControlInPlist(item);
    }
}

function buildChecked(build: (value: PlistValue) => string, doc: PlistValue): string {
  refuseControlInPlist(doc);
  return `${build(doc)}\n`;
}

/** Parses the template, fills it and builds the XML. */
export async function renderPlist(spec: RunnerSpec, label: string, template?: string): Promise<string> {
  const { build, parse } = await import("plist");
  const source = template ?? (await readFile(templatePath(), "utf8"));
  return buildChecked(build, fillTemplate(parse(source), plistValues(spec, label)));
}

/** launchd's minimum between two starts of a job, said explicitly: a page that dies at once retries every 10 s. */
export const SERVE_THROTTLE_SECONDS = 10;

/**
 * The status page's LaunchAgent `<label>.serve`: the tick's filled template (same node, CLI, folder,
 * environment, log folder, AbandonProcessGroup for daemons a heal from the page starts, ProcessType),
 * running `serve` instead of `run`, kept alive instead of started every interval.
 */
export async function renderServePlist(
  spec: RunnerSpec,
  label: string,
  job: ServeJob,
  template?: string,
): Promise<string> {
  const { build, parse } = await import("plist");
  const source = template ?? (await readFile(templatePath(), "utf8"));
  const filled = fillTemplate(parse(source), plistValues(spec, serveLabel(label)));
  if (
    filled === null ||
    typeof filled !== "object" ||
    Array.isArray(filled) ||
    filled instanceof Date ||
    filled instanceof Uint8Array
  )
    throw new UpkeepError("E_INTERNAL", "plist template: not a dictionary");
  const doc: Record<string, PlistValue> = {};
  for (const [key, value] of Object.entries(filled)) {
    if (key === "StartInterval" || key === "RunAtLoad") continue;
    if (key !== "ProgramArguments") {
      doc[key] = value;
      continue;
    }
    doc[key] = [spec.nodePath, spec.cliPath, ...serveArgs(spec, job)];
    // Started at load and again whenever it exits, whatever the exit status.
    doc["KeepAlive"] = true;
    doc["RunAtLoad"] = true;
    doc["ThrottleInterval"] = SERVE_THROTTLE_SECONDS;
  }
  return buildChecked(build, doc);
}
