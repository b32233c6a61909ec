#!/usr/bin/env node
// A tiny service for tests and the demo: an HTTP server (so also a TCP listener) on 127.0.0.1.
//   stub-service.mjs --port N [--name NAME] [--host 127.0.0.1] [--lifetime MS]
// --lifetime: exit (code 1) after MS milliseconds, like a daemon in a crash loop.
// GET /health answers 200 {"status":"ok","name":NAME,"pid":PID}; anything else 404.
// Exits cleanly (code 0) on SIGTERM/SIGINT; ends on its own after 10 minutes so tests cannot leak it forever.
import { createServer } from "node:http";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const port = Number(flag("--port", "0"));
const host = flag("--host", "127.0.0.1");
const name = flag("--name", "stub");

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/health") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: "ok", name, pid: process.pid }));
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found\n");
});

server.on("error", (error) => {
  console.error(`${name}: ${error.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  const address = server.address();
  console.log(`${name} listening on ${host}:${typeof address === "object" && address ? address.port : port}`);
});

const stop = () => {
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
setTimeout(stop, 10 * 60_000).unref();
const lifetime = Number(flag("--lifetime", "0"));
if (lifetime > 0) setTimeout(() => process.exit(1), lifetime).unref();
