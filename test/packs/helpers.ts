import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A temp directory filled with `files` (relative path -> text); `cleanup` removes it. */
export async function tempTree(
  files: Readonly<Record<string, string>>,
): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), "upkeep-packs-"));
  await writeTree(root, files);
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export async function writeTree(root: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

/** A pack with one service `app` on a tcp port param, a recipe using `action`, and one alert rule. */
export function simplePack(
  options: { name?: string; version?: string; capabilities?: string; action?: string; upkeep?: string } = {},
): Record<string, string> {
  const action = options.action ?? "launchd.unload";
  return {
    "pack.yaml": [
      `name: "${options.name ?? "simple"}"`,
      `version: ${options.version ?? "1.0.0"}`,
      `upkeep: "${options.upkeep ?? ">=0.1.0"}"`,
      "params:",
      "  type: object",
      "  required: [port]",
      "  properties:",
      "    port: { type: integer, minimum: 1, maximum: 65535 }",
      "    label: { type: string, default: com.example.app }",
      `capabilities: ${options.capabilities ?? `[${action}]`}`,
      "",
    ].join("\n"),
    "services.yaml": [
      "version: 1",
      "recipes:",
      "  restart:",
      "    steps:",
      `      - action: ${action}`,
      '        with: { label: "${{ pack.params.label }}" }',
      "      - action: verify",
      "services:",
      "  app:",
      "    title: App",
      '    probe: { type: tcp, host: 127.0.0.1, port: "${{ pack.params.port }}" }',
      "    heal: { recipe: restart }",
      "    tags: [pack, web]",
      "",
    ].join("\n"),
    "alerts.yaml": [
      "version: 1",
      "rules:",
      "  down:",
      "    level: WARNING",
      '    when: { "==": [{ var: status }, "down"] }',
      "",
    ].join("\n"),
  };
}

export const CONSUMER_ALERTS = [
  "version: 1",
  "channels:",
  "  log: { type: log }",
  "levels:",
  "  WARNING: { threshold: 1, cooldown: 1h, channels: [log] }",
  "",
].join("\n");

/** Prefixes every key of a pack's files with `dir/`. */
export function under(dir: string, files: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [`${dir}/${k}`, v]));
}
