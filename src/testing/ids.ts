/**
 * How the ids a test file writes become the ids of the Config it runs against. Rule tests write the
 * rules' own ids; a pack's tests write the pack's ids (`app`, as in the pack's files) and run inside a
 * consumer that namespaced them (`as: api` makes `api/app`). This is the one place that mapping lives:
 * the compiler asks it for every service and alert rule id it reads, so the checks, the series and the
 * reports all hold the consumer's ids while positions still point at what the file wrote.
 */

export interface IdMap {
  /** The Config's id of a service the test file names. */
  service(id: string): string;
  /** The Config's id of an alert rule the test file names. */
  rule(id: string): string;
  /** Inverse of `service`/`rule` for did-you-mean hints: the ids the file could have written. */
  written(configIds: Iterable<string>): string[];
  /** Which alert notices `alerts:` compares: a pack's tests see only the pack's own rules. */
  ownsRule(ruleId: string): boolean;
  /** Shown after "the rules have no service ..." so a reader sees the mapping. */
  describe(id: string): string;
}

export const IDENTITY: IdMap = {
  service: (id) => id,
  rule: (id) => id,
  written: (ids) => [...ids],
  ownsRule: () => true,
  describe: (id) => `"${id}"`,
};

/** Ids of a pack used `as: ns`: every service and alert rule a pack test names is the pack's own. */
export function namespacedIds(ns: string): IdMap {
  const prefix = `${ns}/`;
  const map = (id: string): string => `${prefix}${id}`;
  return {
    service: map,
    rule: map,
    written: (ids) => [...ids].filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length)),
    ownsRule: (ruleId) => ruleId.startsWith(prefix),
    describe: (id) => `"${id}" (${map(id)} in these rules, where the pack is used as "${ns}")`,
  };
}

/** Ids inside expected facts that name services (`blockedBy`, `service.id`) follow the same mapping. */
export function mapFactIds(expected: Readonly<Record<string, unknown>>, ids: IdMap): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...expected };
  const blocked = copy["blockedBy"];
  if (Array.isArray(blocked))
    copy["blockedBy"] = blocked.map((id) => (typeof id === "string" ? ids.service(id) : id));
  const service = copy["service"];
  if (service !== null && typeof service === "object" && !Array.isArray(service)) {
    const id = (service as Record<string, unknown>)["id"];
    if (typeof id === "string") copy["service"] = { ...service, id: ids.service(id) };
  }
  return copy;
}
