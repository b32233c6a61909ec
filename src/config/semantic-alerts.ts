/** Semantic checks of alerts.yaml: channel types, level and service references, conditions, messages. */
import { FACT_NAMES } from "../core/facts.js";
import { FACTS } from "./fact-paths.js";
import type { Finding } from "./diagnostics.js";
import { checkLogic } from "./logic.js";
import type { SemanticOptions } from "./semantic.js";
import { pluginParamFindings } from "./semantic-params.js";
import { checkTemplates } from "./semantic-templates.js";
import { checkDurations, isRec, list, type Path, rec, str, unknownName } from "./semantic-util.js";
import { toPointer } from "./diagnostics.js";

export function checkAlerts(
  doc: unknown,
  serviceIds: readonly string[] | undefined,
  options: SemanticOptions,
): Finding[] {
  const out: Finding[] = [];
  if (!isRec(doc)) return out;
  const channels = rec(doc["channels"]);
  const levels = rec(doc["levels"]);
  const channelTypes = options.handlers.names("channel");
  for (const [id, raw] of Object.entries(channels)) {
    const channel = rec(raw);
    checkTemplates(
      channel["with"],
      ["channels", id, "with"],
      { roots: [], env: true, where: "in channel settings" },
      options,
      out,
    );
    const type = str(channel["type"]);
    if (type === undefined) continue;
    if (!channelTypes.includes(type)) {
      unknownName(out, ["channels", id, "type"], "unknown-channel-type", "channel type", type, channelTypes);
      continue;
    }
    const plugin = options.handlers.pluginSchema("channel", type);
    if (plugin !== undefined)
      out.push(...pluginParamFindings(plugin, channel["with"] ?? {}, ["channels", id, "with"]));
  }
  for (const [id, level] of Object.entries(levels)) {
    list(rec(level)["channels"]).forEach((c, i) => {
      if (typeof c === "string" && !Object.hasOwn(channels, c)) {
        unknownName(
          out,
          ["levels", id, "channels", i],
          "unknown-channel",
          "channel",
          c,
          Object.keys(channels),
        );
      }
    });
  }
  const serviceRef = (value: unknown, at: Path): void => {
    if (serviceIds !== undefined && typeof value === "string" && !serviceIds.includes(value)) {
      unknownName(out, at, "unknown-service", "service", value, serviceIds);
    }
  };
  const levelRef = (value: unknown, at: Path): void => {
    if (typeof value === "string" && !Object.hasOwn(levels, value)) {
      unknownName(out, at, "unknown-level", "level", value, Object.keys(levels));
    }
  };
  const messageScope = { roots: FACT_NAMES, facts: FACTS, env: false, where: "in alert messages" };
  for (const [id, raw] of Object.entries(rec(doc["rules"]))) {
    const rule = rec(raw);
    levelRef(rule["level"], ["rules", id, "level"]);
    if ("when" in rule)
      out.push(...checkLogic(rule["when"], toPointer(["rules", id, "when"]), { facts: FACTS }));
    list(rule["services"]).forEach((s, i) => serviceRef(s, ["rules", id, "services", i]));
    for (const key of ["message", "resolvedMessage"])
      checkTemplates(rule[key], ["rules", id, key], messageScope, options, out);
  }
  list(doc["silences"]).forEach((raw, n) => {
    const silence = rec(raw);
    list(silence["services"]).forEach((s, i) => serviceRef(s, ["silences", n, "services", i]));
    list(silence["levels"]).forEach((l, i) => levelRef(l, ["silences", n, "levels", i]));
  });
  checkDurations(doc, out);
  return out;
}
