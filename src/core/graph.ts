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
  /** Each service's index in `order`: sorting by it replaces a scan of the whole order. */
  readonly rank: ReadonlyMap<string, number>;
  /** Known direct dependents of each service (the reverse of `deps`). */
  readonly dependents: ReadonlyMap<string, readonly string[]>;
  /** No cycle: a root cause found once holds for every service that reaches it. */
  readonly acyclic: boolean;
}

/** Just what `blockedBy` asks of the failed services. */
export interface FailedSet {
  has(id: string): boolean;
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

const NONE: readonly string[] = [];

/** Known dependencies once each; most services have none or one (no Set copy for those). */
function knownDeps(dependsOn: readonly string[], known: ReadonlySet<string>): readonly string[] {
  if (dependsOn.length === 0) return NONE;
  if (dependsOn.length === 1) return known.has(dependsOn[0] as string) ? [dependsOn[0] as string] : NONE;
  return [...new Set(dependsOn)].filter((d) => known.has(d));
}

function computeGraph(services: readonly GraphNode[]): DependencyGraph {
  const known = new Set(services.map((s) => s.id));
  const deps = new Map<string, readonly string[]>();
  for (const s of services) deps.set(s.id, knownDeps(s.dependsOn, known));
  const dependents = new Map<string, string[]>();
  // forEach, not for-of with destructuring: built once per tick over every service, in cold code.
  deps.forEach((list, id) => {
    for (const dep of list) {
      const found = dependents.get(dep);
      if (found === undefined) dependents.set(dep, [id]);
      else found.push(id);
    }
  });
  const order = topoOrder(
    services.map((s) => s.id),
    deps,
  );
  const rank = new Map<string, number>();
  order.forEach((id, i) => rank.set(id, i));
  return { order, deps, rank, dependents, acyclic: isAcyclic(order, deps, rank) };
}

/** Acyclic when every dependency comes before its dependent in the order (a cycle cannot). */
function isAcyclic(
  order: readonly string[],
  deps: ReadonlyMap<string, readonly string[]>,
  rank: ReadonlyMap<string, number>,
): boolean {
  return order.every((id) => (deps.get(id) ?? []).every((d) => (rank.get(d) ?? -1) < (rank.get(id) ?? -1)));
}

/** Ids in graph order; unknown ids last, as given. */
export function inGraphOrder(graph: DependencyGraph, ids: Iterable<string>): string[] {
  const rankOf = (id: string): number => graph.rank.get(id) ?? Number.MAX_SAFE_INTEGER;
  return [...ids].sort((a, b) => rankOf(a) - rankOf(b));
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
export function blockedBy(graph: DependencyGraph, serviceId: string, failed: FailedSet): string[] {
  const roots = rootCauses(graph, serviceId, failed, new Set([serviceId]), new Map());
  return roots.size === 0 ? [] : inGraphOrder(graph, roots);
}

/**
 * `blockedBy` for many services against one failed set. A tick asks it of every failed service; on an
 * acyclic graph (what validation allows) the root causes found for one service are reused for all the
 * services that reach it, so the whole tick walks each dependency edge once. On a cyclic graph each
 * service is walked on its own, as `blockedBy` does: what a cycle cuts depends on where the walk began.
 */
export function blockedByOf(graph: DependencyGraph, failed: FailedSet): (serviceId: string) => string[] {
  const memo = new Map<string, ReadonlySet<string>>();
  return (serviceId) => {
    if (!graph.acyclic) return blockedBy(graph, serviceId, failed);
    const roots = rootCauses(graph, serviceId, failed, new Set([serviceId]), memo);
    return roots.size === 0 ? [] : inGraphOrder(graph, roots);
  };
}

function rootCauses(
  graph: DependencyGraph,
  id: string,
  failed: FailedSet,
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
  return dependentsOfAll(graph, [serviceId]).filter((id) => id !== serviceId);
}

/**
 * Every service that depends, directly or not, on any of `serviceIds`, in graph order; one walk over
 * the reverse edges, each visited once. A given id is listed only when it depends on another one.
 */
export function dependentsOfAll(graph: DependencyGraph, serviceIds: Iterable<string>): string[] {
  const found = new Set<string>();
  const stack = [...serviceIds];
  while (stack.length > 0) {
    for (const dependent of graph.dependents.get(stack.pop() as string) ?? []) {
      if (found.has(dependent)) continue;
      found.add(dependent);
      stack.push(dependent);
    }
  }
  return inGraphOrder(graph, found);
}
