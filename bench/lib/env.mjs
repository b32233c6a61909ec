/**
 * The environment measured processes get: what upkeep's systemd unit gives a tick (PATH and HOME), plus
 * the bench's own XDG_CACHE_HOME. Everything else is left out, and the start-up variables that change
 * how Node or upkeep start are named when this shell had them set: NODE_EXTRA_CA_CERTS alone adds
 * tens of milliseconds to every Node 20 start, NODE_OPTIONS can preload anything, UPKEEP_NO_CACHE turns
 * the caches off.
 */
import { homedir } from "node:os";

/** Variables worth naming when they were set: they change what a Node or upkeep start costs. */
const STARTUP = /^(NODE_|UPKEEP_|UV_|V8_|GITHUB_ACTIONS$|XDG_CACHE_HOME$)/;

export function cleanEnv(source = process.env) {
  const kept = { PATH: source.PATH ?? "/usr/local/bin:/usr/bin:/bin", HOME: source.HOME ?? homedir() };
  const unset = Object.keys(source)
    .filter((name) => STARTUP.test(name))
    .sort();
  return { base: kept, unset };
}

/** One line for the report: what the children run with and which start-up variables were dropped. */
export function describeEnv({ unset }) {
  const named = unset.length === 0 ? "none was set here" : unset.join(", ");
  return (
    "children run with PATH and HOME only (as upkeep's systemd unit runs ticks) plus the bench's own " +
    `XDG_CACHE_HOME; start-up variables unset: ${named}`
  );
}
