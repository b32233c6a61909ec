/**
 * The secrets a rules folder can reach, known before anything runs: every variable a `${env:NAME}`
 * names anywhere in the rules, and every value of `runtime.envFile`. Registering them at load time means
 * a command that never resolves a template (status, explain, report, serve) still hides a value that a
 * tick stored before, or that a child process printed.
 */
import { findRefs } from "../config/template.js";
import { registerSecret } from "./redact.js";

export function envNamesIn(value: unknown): Set<string> {
  const names = new Set<string>();
  const stack: unknown[] = [value];
  // Iterative and bounded by the config's size: rules are data, never cyclic after JSON parsing. Every
  // command walks the whole Config here: children are pushed as they are found, without the array
  // Object.values would allocate per object (which made it three times slower).
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === "string") {
      if (node.includes("${env:"))
        for (const ref of findRefs(node)) if (ref.kind === "env") names.add(ref.name);
    } else if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i += 1) stack.push(node[i]);
    } else if (typeof node === "object" && node !== null) {
      const record = node as Record<string, unknown>;
      for (const key in record) if (Object.hasOwn(record, key)) stack.push(record[key]);
    }
  }
  return names;
}

export function registerConfigSecrets(
  config: unknown,
  env: Readonly<Record<string, string | undefined>>,
  envFileValues: Readonly<Record<string, string>> = {},
): void {
  for (const name of envNamesIn(config)) {
    const value = env[name];
    if (value !== undefined && value !== "") registerSecret(value);
  }
  for (const value of Object.values(envFileValues)) if (value !== "") registerSecret(value);
}
