/**
 * The dependency graph between services (`dependsOn`). Validation rejects cycles and unknown ids, but
 * these functions stay total on any input: unknown ids are ignored and a cycle cannot loop forever.
 */

export interface GraphNode {
  readonly id: string;
  readonly dependsOn: readonly string[];
}

export interface DependencyGraph {
  /** Every service after its dependencies (cycles cut arbitrarily but deterministically). */
  readonly order: readonly string[];
  /** Known dependencies of each service. */
  readonly deps: ReadonlyMap<string, readonly string[]>;
}

/** A tick builds the graph of the same Config several times: once per services array is enough. */
const built = new WeakMap<readonly GraphNode[], DependencyGraph>();

export function buildGraph(services: readonly GraphNode[]): DependencyGraph {
  const known = built.get(services);
  if (known !== undefined) return known;
  const graph = computeGraph(services);
  built.set(services, graph);
  return graph;
}

function computeGraph(services: readonly GraphNode[]): DependencyGraph {
  const known = new Set(services.map((s) => s.id));
  const deps = new Map<string, readonly string[]>();
  for (const s of services)
    deps.set(
      s.id,
      [...new Set(s.dependsOn)].filter((d) => known.has(d)),
    );
  return {
    order: topoOrder(
      services.map((s) => s.id),
      deps,
    ),
    deps,
  };
}

/** Depth-first: each service right after its dependencies, otherwise in input order. */
function topoOrder(ids: readonly string[], deps: ReadonlyMap<string, readonly string[]>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const visit = (id: string): void => {
    // `visiting` cuts cycles (which validation rejects anyway): a service in a cycle is placed when
    // its own visit ends, after the dependencies that are not part of the cycle.
    if (placed.has(id) || visiting.has(id)) return;
    visiting.add(id);
    for (const dep of deps.get(id) ?? []) visit(dep);
    visiting.delete(id);
    placed.add(id);
    order.push(id);
  };
  for (const id of ids) visit(id);
  return order;
}

/**
 * The services whose failure blocks `serviceId`: for each dependency that failed, either its own root
 * causes (it is blocked itself) or the dependency (it is down). Empty means not blocked. `failed` is the
 * set of services whose probe failed; the caller decides whether `serviceId` itself failed.
 */
export function blockedBy(graph: DependencyGraph, serviceId: string, failed: ReadonlySet<string>): string[] {
  const roots = rootCauses(graph, serviceId, failed, new Set([serviceId]), new Map());
  return graph.order.filter((id) => roots.has(id));
}

function rootCauses(
  graph: DependencyGraph,
  id: string,
  failed: ReadonlySet<string>,
  visiting: Set<string>,
  memo: Map<string, ReadonlySet<string>>,
): ReadonlySet<string> {
  const known = memo.get(id);
  if (known !== undefined) return known;
  const roots = new Set<string>();
  for (const dep of graph.deps.get(id) ?? []) {
    // `visiting` cuts cycles (which validation rejects anyway).
    if (!failed.has(dep) || visiting.has(dep)) continue;
    visiting.add(dep);
    const upstream = rootCauses(graph, dep, failed, visiting, memo);
    visiting.delete(dep);
    if (upstream.size === 0) roots.add(dep);
    for (const root of upstream) roots.add(root);
  }
  memo.set(id, roots);
  return roots;
}

/** Every service that depends on `serviceId`, directly or not, in graph order (for re-probing). */
export function dependentsOf(graph: DependencyGraph, serviceId: string): string[] {
  const found = new Set<string>();
  let frontier = [serviceId];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const [id, deps] of graph.deps) {
      if (!found.has(id) && id !== serviceId && deps.some((d) => frontier.includes(d))) {
        found.add(id);
        next.push(id);
      }
    }
    frontier = next;
  }
  return graph.order.filter((id) => found.has(id));
}
