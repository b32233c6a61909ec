/**
 * What an editor shows for upkeep's files: the real yaml-language-server (the server of VS Code's YAML
 * extension), started from node_modules/.bin and spoken to over LSP on stdio, opens rules files whose
 * `$schema` modeline is the one `upkeep pack init` writes, each with two mistakes. Both mistakes must
 * come back as diagnostics, and nothing else: in particular no "Problems loading reference", which is what
 * a schema with a remote `$id` produced (issue 17). The schemas must load from disk: SchemaStore is off
 * and every HTTP(S) request goes to a closed loopback port, so a remote fetch fails at once.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { editorSchemaFile, schemaTarget } from "../../src/config/editor-schema.js";
import { scaffold } from "../../src/packs/scaffold.js";
import { LspClient, type Diagnostic } from "./lsp-client.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

let dir: string;
let client: LspClient;

/** A loopback port nothing listens on: a proxy there refuses every remote schema download at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "upkeep-editor-"));
  const proxy = `http://127.0.0.1:${await closedPort()}`;
  client = await LspClient.start(
    {
      yaml: {
        validate: true,
        hover: false,
        completion: false,
        schemaStore: { enable: false },
        // The association docs/editor.md offers for files without a modeline (VS Code's settings.json).
        schemas: { [editorSchemaFile("services")]: ["**/associated/services.yaml"] },
      },
      http: { proxy, proxyStrictSSL: false },
    },
    dir,
    { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, NO_PROXY: "" },
  );
});

afterAll(async () => {
  await client?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Diagnostics as `line: message` (0-based lines, as LSP counts), in document order. */
const summary = (diagnostics: readonly Diagnostic[]): string[] =>
  [...diagnostics]
    .sort((a, b) => a.range.start.line - b.range.start.line)
    .map((d) => `${d.range.start.line}: ${d.message}`);

/** The first line of a scaffolded file: its `# yaml-language-server: $schema=...` modeline. */
async function modelineOf(file: string): Promise<string> {
  const [first = ""] = (await readFile(file, "utf8")).split("\n");
  expect(first).toMatch(/^# yaml-language-server: \$schema=\S+$/);
  return first;
}

async function openWith(file: string, modeline: string, body: string[]): Promise<string[]> {
  const text = [modeline, ...body, ""].join("\n");
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
  return summary(await client.open(file, text));
}

describe("yaml-language-server on files from `upkeep pack init`", () => {
  let pack: string;
  const modelines: Record<string, string> = {};
  beforeAll(async () => {
    pack = join(dir, "my-pack");
    expect(await scaffold(pack, "0.1.0")).toEqual({ written: expect.any(Array) as unknown });
    for (const file of ["pack.yaml", "services.yaml", "alerts.yaml"]) {
      modelines[file] = await modelineOf(join(pack, file));
    }
  });

  it("the scaffold as written has no diagnostics at all", async () => {
    // A second pack: each document is opened once per server, and the tests below edit my-pack's files.
    const pristine = join(dir, "pristine-pack");
    await scaffold(pristine, "0.1.0");
    for (const file of ["pack.yaml", "services.yaml", "alerts.yaml"]) {
      const text = await readFile(join(pristine, file), "utf8");
      expect({ file, diagnostics: summary(await client.open(join(pristine, file), text)) }).toEqual({
        file,
        diagnostics: [],
      });
    }
  });

  it("services.yaml: reports a wrong-typed port and an unknown probe key, and no loading problem", async () => {
    const diagnostics = await openWith(join(pack, "services.yaml"), modelines["services.yaml"] ?? "", [
      "version: 1",
      "services:",
      "  app:",
      "    probe:",
      "      type: tcp",
      "      port: true",
      "      tiemout: 2s",
    ]);
    expect(diagnostics).toEqual([
      expect.stringMatching(/^6: Incorrect type\. Expected "integer \| string"/),
      expect.stringMatching(/^7: Property tiemout is not allowed/),
    ]);
  });

  it("services.yaml: checks a heal step's `with:` against the inlined handler schema", async () => {
    const diagnostics = await openWith(
      join(dir, "more-rules", "services.yaml"),
      modelines["services.yaml"] ?? "",
      [
        "version: 1",
        "services:",
        "  app:",
        "    probe: { type: tcp, port: 8080 }",
        "    heal:",
        "      steps:",
        "        - action: wait",
        "          with: { for: 2s, seconds: 2 }",
        "        - action: launchd.unload",
        "          with: { label: 42 }",
      ],
    );
    expect(diagnostics).toEqual([
      expect.stringMatching(/^8: Property seconds is not allowed/),
      expect.stringMatching(/^10: Incorrect type\. Expected "string"/),
    ]);
  });

  it("alerts.yaml: reports a channel's bad handler parameter and a wrong-typed threshold", async () => {
    const diagnostics = await openWith(join(pack, "alerts.yaml"), modelines["alerts.yaml"] ?? "", [
      "version: 1",
      "channels:",
      "  log:",
      "    type: log",
      "    with: { level: loud }",
      "levels:",
      "  WARNING: { threshold: five, cooldown: 2h, channels: [log] }",
    ]);
    expect(diagnostics).toEqual([
      expect.stringMatching(/^5: Value is not accepted\. Valid values: "fatal", "error", "warn", "info"/),
      expect.stringMatching(/^7: Incorrect type\. Expected "integer"/),
    ]);
  });

  it("pack.yaml: reports the manifest's mistakes", async () => {
    const diagnostics = await openWith(join(pack, "pack.yaml"), modelines["pack.yaml"] ?? "", [
      "name: my-pack",
      "version: one",
      'upkeep: ">=0.1.0 <1"',
      "capabilites: [exec]",
    ]);
    expect(diagnostics).toEqual([
      expect.stringMatching(/^2: String does not match the pattern/),
      expect.stringMatching(/^4: Property capabilites is not allowed/),
    ]);
  });
});

describe("yaml-language-server with a relative modeline into a project's node_modules", () => {
  it("loads the editor schema from a local install, as `upkeep pack init` links it inside a project", async () => {
    const project = join(dir, "project");
    const installed = join(project, "node_modules", "upkeep");
    const target = editorSchemaFile("services", installed);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, await readFile(editorSchemaFile("services"), "utf8"));
    const rules = join(project, "rules");
    const ref = schemaTarget("services", rules, installed);
    expect(ref).toBe("../node_modules/upkeep/schemas/editor/services.json");
    const diagnostics = await openWith(
      join(rules, "services.yaml"),
      `# yaml-language-server: $schema=${ref}`,
      ["version: 1", "services:", "  app:", "    probe: { type: tcp, port: true, tiemout: 2s }"],
    );
    expect(diagnostics).toEqual([
      expect.stringMatching(/^4: Incorrect type\. Expected "integer \| string"/),
      expect.stringMatching(/^4: Property tiemout is not allowed/),
    ]);
  });
});

describe("yaml-language-server with the schema from the repository's schemas/ folder", () => {
  it("the source schema (remote $id) is what editors must not be given: it cannot load offline", async () => {
    const diagnostics = await openWith(
      join(dir, "source", "services.yaml"),
      `# yaml-language-server: $schema=${REPO}schemas/services.schema.json`,
      ["version: 1", "services:", "  app:", "    probe: { type: tcp, port: true }"],
    );
    expect(diagnostics.join("\n")).toMatch(/Problems loading reference 'https:\/\/upkeep\.dev\//);
  });
});

describe("yaml-language-server with a `yaml.schemas` setting instead of a modeline", () => {
  it("validates a rules file the setting associates with the editor schema", async () => {
    const diagnostics = await openWith(join(dir, "associated", "services.yaml"), "# no modeline", [
      "version: 1",
      "services:",
      "  app:",
      "    probe: { type: tcp, port: true, tiemout: 2s }",
    ]);
    expect(diagnostics).toEqual([
      expect.stringMatching(/^4: Incorrect type\. Expected "integer \| string"/),
      expect.stringMatching(/^4: Property tiemout is not allowed/),
    ]);
  });
});
