/**
 * A minimal LSP client for the real yaml-language-server (the server behind VS Code's YAML extension):
 * JSON-RPC over the child's stdio with Content-Length framing. Just enough to open documents and read
 * the diagnostics the editor would show.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { realpathSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** node_modules/.bin/yaml-language-server is a symlink to a script; run that with this test's node. */
const SERVER = realpathSync(`${ROOT}node_modules/.bin/yaml-language-server`);

export interface Diagnostic {
  readonly range: { start: { line: number; character: number }; end: { line: number; character: number } };
  readonly severity?: number;
  readonly message: string;
  readonly source?: string;
}

interface Message {
  jsonrpc: "2.0";
  id?: number | string;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

type Waiter = { match: (message: Message) => boolean; done: (message: Message) => void };

export class LspClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly seen: Message[] = [];
  private waiters: Waiter[] = [];
  private readonly opened = new Set<string>();
  private stderr = "";
  private exited = false;

  private constructor(
    child: ChildProcessWithoutNullStreams,
    private readonly settings: Readonly<Record<string, unknown>>,
  ) {
    this.child = child;
    child.stdout.on("data", (chunk: Buffer) => this.receive(chunk));
    // A server that died makes writes fail with EPIPE; the waits then time out with its stderr.
    child.stdin.on("error", () => undefined);
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-4000);
    });
    child.on("exit", () => {
      this.exited = true;
    });
  }

  /**
   * Starts the server, completes the initialize handshake and has the server apply `settings` (keyed by
   * section: `yaml`, `http`), as VS Code would give them.
   */
  static async start(
    settings: Record<string, unknown>,
    rootDir: string,
    env: Record<string, string> = {},
  ): Promise<LspClient> {
    const child = spawn(process.execPath, [SERVER, "--stdio"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "", ...env },
    });
    const client = new LspClient(child, settings);
    try {
      const rootUri = pathToFileURL(rootDir).href;
      await client.request("initialize", {
        processId: process.pid,
        rootUri,
        workspaceFolders: [{ uri: rootUri, name: "rules" }],
        capabilities: {
          workspace: { configuration: true },
          textDocument: { publishDiagnostics: { relatedInformation: false } },
        },
      });
      client.notify("initialized", {});
      // With this notification the server announces when it has applied the settings it pulls after
      // didChangeConfiguration: a document opened before that misses their schema associations.
      client.notify("yaml/supportSchemaSelection", {});
      const applied = client.wait(
        (m) => m.method === "yaml/schema/store/initialized",
        20_000,
        "settings applied",
      );
      client.notify("workspace/didChangeConfiguration", { settings });
      await applied;
      return client;
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    }
  }

  /**
   * Opens a document and returns the first diagnostics the server publishes for it. Each file is opened
   * once per server: a later publish for the same document could not be told from this one's.
   */
  async open(file: string, text: string, timeoutMs = 20_000): Promise<Diagnostic[]> {
    const uri = pathToFileURL(file).href;
    if (this.opened.has(uri)) throw new Error(`${file} is already open: use another file`);
    this.opened.add(uri);
    const published = this.wait(
      (m) => m.method === "textDocument/publishDiagnostics" && (m.params as { uri: string }).uri === uri,
      timeoutMs,
      `diagnostics for ${file}`,
    );
    this.notify("textDocument/didOpen", { textDocument: { uri, languageId: "yaml", version: 1, text } });
    const message = await published;
    return (message.params as { diagnostics: Diagnostic[] }).diagnostics;
  }

  /** Asks the server to shut down, and kills it when it does not exit in time. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((done) => {
      if (this.exited) done();
      else this.child.once("exit", () => done());
    });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    try {
      await this.request("shutdown", null, 5_000);
      this.notify("exit", null);
    } catch {
      this.child.kill("SIGKILL");
    }
    await gone;
    clearTimeout(timer);
  }

  request(method: string, params: unknown, timeoutMs = 20_000): Promise<unknown> {
    const id = this.nextId++;
    const answer = this.wait((m) => m.id === id && m.method === undefined, timeoutMs, `${method} answer`);
    this.send({ jsonrpc: "2.0", id, method, params });
    return answer.then((m) => {
      if (m.error !== undefined) throw new Error(`${method} failed: ${m.error.message}`);
      return m.result;
    });
  }

  notify(method: string, params: unknown): void {
    this.send({ jsonrpc: "2.0", method, params });
  }

  private send(message: Message): void {
    const body = Buffer.from(JSON.stringify(message), "utf8");
    this.child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.child.stdin.write(body);
  }

  private wait(match: (m: Message) => boolean, timeoutMs: number, what: string): Promise<Message> {
    const earlier = this.seen.find(match);
    if (earlier !== undefined) return Promise.resolve(earlier);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        done: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(`no ${what} from yaml-language-server within ${timeoutMs} ms; stderr: ${this.stderr}`),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    // Bounded by the buffer: each pass consumes one whole message or stops.
    for (;;) {
      const headerEnd = this.buffer.indexOf("\r\n\r\n");
      if (headerEnd < 0) return;
      const header = this.buffer.subarray(0, headerEnd).toString("ascii");
      const length = /Content-Length: (\d+)/i.exec(header);
      if (length === null) throw new Error(`bad LSP header: ${header}`);
      const end = headerEnd + 4 + Number(length[1]);
      if (this.buffer.length < end) return;
      const message = JSON.parse(this.buffer.subarray(headerEnd + 4, end).toString("utf8")) as Message;
      this.buffer = this.buffer.subarray(end);
      this.handle(message);
    }
  }

  private handle(message: Message): void {
    if (message.method !== undefined && message.id !== undefined) {
      // A request from the server. It pulls its settings with workspace/configuration whenever told they
      // changed (it ignores the notification's payload); anything else (registerCapability, ...) is accepted.
      const result =
        message.method === "workspace/configuration"
          ? (message.params as { items: { section?: string }[] }).items.map(
              (item) => this.settings[item.section ?? ""] ?? null,
            )
          : null;
      this.send({ jsonrpc: "2.0", id: message.id, result });
      return;
    }
    const waiter = this.waiters.find((w) => w.match(message));
    if (waiter === undefined) {
      this.seen.push(message);
      return;
    }
    this.waiters = this.waiters.filter((w) => w !== waiter);
    waiter.done(message);
  }
}
