/**
 * dependsOn cycles. One depth-first pass in file order: every back edge closes a cycle, reported once at
 * the dependsOn entry that closes it, with the whole loop spelled out ("a -> b -> a").
 */
import { type Finding, toPointer } from "./diagnostics.js";

type Rec = Record<string, unknown>;

export function findCycles(services: Readonly<Rec>): Finding[] {
  const deps = new Map<string, string[]>();
  for (const [id, service] of Object.entries(services)) {
    const raw = service !== null && typeof service === "object" ? (service as Rec)["dependsOn"] : undefined;
    deps.set(id, Array.isArray(raw) ? raw.map((d) => (typeof d === "string" ? d : "")) : []);
  }
  const out: Finding[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  // Iterative, so 5,000 services in a chain cannot overflow the call stack.
  for (const root of deps.keys()) {
    if (state.has(root)) continue;
    const frames: { id: string; next: number }[] = [{ id: root, next: 0 }];
    state.set(root, "open");
    stack.push(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as { id: string; next: number };
      const list = deps.get(frame.id) ?? [];
      if (frame.next >= list.length) {
        state.set(frame.id, "done");
        stack.pop();
        frames.pop();
        continue;
      }
      const index = frame.next++;
      const dep = list[index] as string;
      if (!deps.has(dep)) continue;
      const seen = state.get(dep);
      if (seen === "open") {
        const loop = [...stack.slice(stack.indexOf(dep)), dep];
        out.push({
          pointer: toPointer(["services", frame.id, "dependsOn", index]),
          code: "dependency-cycle",
          message: `dependency cycle: ${loop.join(" -> ")}`,
          hint: "remove one of these dependsOn entries",
        });
      } else if (seen === undefined) {
        state.set(dep, "open");
        stack.push(dep);
        frames.push({ id: dep, next: 0 });
      }
    }
  }
  return out;
}
