// The upkeep status page: renders /api/page, refreshes when the server says the state changed (server-sent
// events; polling every 30 s as a fallback), and sends actions with the token when the server allows them.
// Text only ever goes into the page through textContent.
/* global document, fetch, EventSource, sessionStorage, window */
"use strict";

const $ = (id) => document.getElementById(id);
let loading = false;
let again = false;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function time(iso) {
  if (!iso) return "?";
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  const hm = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return today ? hm : `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${hm}`;
}

function duration(ms) {
  if (ms === null || ms === undefined) return "?";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const parts = [];
  let rest = s;
  for (const [unit, size] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
  ]) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.slice(0, 2).join(" ");
}

function pct(u) {
  return u === null || u === undefined ? "no data" : `${(Math.floor(u * 100000) / 1000).toFixed(3)}%`;
}

const ENDED = {
  healed: "healed by upkeep",
  recovered: "recovered by itself",
  "by-hand": "fixed by hand",
  ongoing: "still down",
};

function breakerWords(v) {
  const b = v.breaker;
  if (b.isolated) return `Healing off: isolated ${b.retryAt ? `until ${time(b.retryAt)}` : "until reset"}.`;
  if (v.gaveUp)
    return `upkeep gave up: ${v.failedHeals.inRow} failed heal${v.failedHeals.inRow === 1 ? "" : "s"} in a row; ${
      b.retryAt ? `next try ${time(b.retryAt)}` : "no retry planned"
    }.`;
  if (b.state === "HALF_OPEN") return "Breaker half-open: the next heal is a trial.";
  return "Breaker closed: healing allowed.";
}

function budgetWords(v) {
  const h = v.heals;
  const left = `${h.budgetLeft} of ${h.max} heal${h.max === 1 ? "" : "s"} left`;
  if (h.refusedBy.length === 0) return `${left}, a heal may run now.`;
  const gates = h.refusedBy.map((r) => r.gate).join(", ");
  return `${left}, next allowed ${h.nextAllowedAt ? time(h.nextAllowedAt) : "after a reset"} (${gates}).`;
}

function bucketClass(b) {
  const observed = b.upMs + b.downMs + b.blockedMs;
  if (observed === 0) return "unknown";
  if (b.downMs + b.blockedMs === 0) return "up";
  return b.upMs === 0 ? "down" : "partial";
}

function barRow(name, buckets, uptime) {
  const row = el("div", "bar-row");
  row.append(el("span", "label", name));
  const bar = el("div", "bar");
  bar.setAttribute("role", "img");
  bar.setAttribute("aria-label", `${name} uptime ${pct(uptime)}`);
  for (const b of buckets) {
    const cell = el("span", bucketClass(b));
    const observed = b.upMs + b.downMs + b.blockedMs;
    cell.title = `${time(new Date(b.from).toISOString())}: ${
      observed === 0
        ? "no tick ran"
        : `up ${pct(b.upMs / observed)}, down ${duration(b.downMs + b.blockedMs)}`
    }`;
    bar.append(cell);
  }
  row.append(bar, el("span", "pct", pct(uptime)));
  return row;
}

function button(label, action, body) {
  const b = el("button", "", label);
  b.type = "button";
  b.dataset.action = action;
  b.addEventListener("click", () => act(action, body));
  return b;
}

function serviceCard(v, extra, actions) {
  const card = el("article", "card");
  card.id = `service-${v.id}`;
  card.dataset.status = v.status;
  const title = el("h3");
  title.append(el("span", "", v.title), el("span", `badge ${v.status}`, v.status));
  if (v.flapping) title.append(el("span", "badge blocked", "flapping"));
  card.append(title);
  card.append(el("p", "line since", `${v.status.toUpperCase()} since ${time(v.since)}`));
  if (v.lastProbeAt) {
    const latency = v.lastLatencyMs === null ? "" : ` (${v.lastLatencyMs} ms)`;
    card.append(el("p", "line muted probe", `Last probe ${time(v.lastProbeAt)}: ${v.lastDetail}${latency}`));
  }
  card.append(el("p", "line breaker", breakerWords(v)));
  card.append(el("p", "line budget", budgetWords(v)));
  for (const a of v.firingAlerts)
    card.append(
      el("p", "line alert", `Alert firing: ${a.level} ${a.rule} since ${time(a.since)} (${a.sent} sent)`),
    );
  if (v.lastOutage && v.status === "up")
    card.append(
      el(
        "p",
        "line muted",
        `Last outage ${time(v.lastOutage.start)}${v.lastOutage.durationMs === null ? "" : ` for ${duration(v.lastOutage.durationMs)}`}: ${v.lastOutage.cause}`,
      ),
    );
  if (extra) {
    const bars = el("div", "bars");
    for (const name of ["24h", "7d", "30d"])
      bars.append(barRow(name, extra.bars[name] || [], extra.uptime[name]));
    card.append(bars);
    if (extra.incidents.length > 0) {
      const list = el("ul", "incidents");
      for (const i of extra.incidents)
        list.append(
          el(
            "li",
            "incident",
            `${time(i.start)}, ${i.end === null ? "ongoing" : duration(i.durationMs)}: ${i.cause} - ${ENDED[i.ended] || i.ended}`,
          ),
        );
      card.append(el("p", "line muted", "Incidents (30 days):"), list);
    }
  }
  if (actions) {
    const row = el("div", "buttons");
    row.append(
      button("Heal now", "heal", { service: v.id }),
      button("Force heal", "heal", { service: v.id, force: true }),
      button("Isolate 1h", "breaker-isolate", { service: v.id, for: "1h" }),
      button("Reset breaker", "breaker-reset", { service: v.id }),
    );
    card.append(row);
  }
  return card;
}

function render(doc) {
  const s = doc.status.services;
  const down = s.filter((v) => v.status === "down" || v.status === "blocked");
  $("summary").textContent =
    down.length === 0
      ? s.length === 1
        ? `${s[0].title} is up.`
        : `All ${s.length} services up.`
      : `${down.length} of ${s.length} down: ${down.map((v) => v.title).join(", ")}.`;
  $("updated").textContent =
    `Updated ${time(doc.generatedAt)}${doc.status.tickRunning ? " - a tick is running" : ""}`;
  const problems = $("problems");
  problems.hidden = doc.history.error === null;
  problems.textContent = doc.history.error === null ? "" : `History unreadable: ${doc.history.error}`;
  const services = $("services");
  services.replaceChildren(...s.map((v) => serviceCard(v, doc.services[v.id], doc.actions)));

  const outbox = doc.status.outbox;
  $("outbox").hidden = outbox.length === 0;
  $("outbox-list").replaceChildren(
    ...outbox.map((o) =>
      el(
        "li",
        "",
        `${o.channel}: ${o.queued} queued${o.nextAttemptAt ? `, next try ${time(o.nextAttemptAt)}` : ""}${o.lastError ? ` - ${o.lastError}` : ""}`,
      ),
    ),
  );
  const silences = doc.status.silences;
  const items = silences.map((x) => {
    const li = el(
      "li",
      "silence",
      `${x.id}: ${x.state} until ${time(x.endsAt)}, ${x.services.length === 0 ? "all services" : x.services.join(", ")}${
        x.pauseHealing ? ", healing paused" : ""
      }${x.createdBy ? ` by ${x.createdBy}` : ""}${x.comment ? ` - ${x.comment}` : ""}`,
    );
    if (doc.actions) li.append(" ", button("Remove", "silence-remove", { id: x.id }));
    return li;
  });
  $("silence-list").replaceChildren(...(items.length > 0 ? items : [el("li", "muted", "None.")]));
  $("actions").hidden = !doc.actions;
  const form = $("silence-form");
  form.hidden = !doc.actions;
  const select = $("silence-service");
  if (doc.actions && select.options.length !== s.length + 1) {
    select.replaceChildren(el("option", "", "all services"), ...s.map((v) => el("option", "", v.id)));
    select.options[0].value = "";
  }
}

async function load() {
  // A change heard while a load runs is loaded right after it, not dropped.
  if (loading) {
    again = true;
    return;
  }
  loading = true;
  try {
    const res = await fetch("/api/page", { headers: { accept: "application/json" } });
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
    render(await res.json());
  } catch (error) {
    $("summary").textContent = `Could not load the status: ${error.message}`;
  } finally {
    loading = false;
    if (again) {
      again = false;
      load();
    }
  }
}

async function act(action, body) {
  const result = $("action-result");
  const token = $("token").value.trim();
  sessionStorage.setItem("upkeep-token", token);
  result.className = "";
  result.textContent = `${action}: running...`;
  try {
    const res = await fetch(`/api/actions/${action}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token === "" ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ ...body, by: $("by").value.trim() || "status page" }),
    });
    const answer = await res.json();
    const ok = res.ok && answer.exitCode === 0;
    result.className = ok ? "" : "error";
    result.textContent = ok
      ? `${action}: done.`
      : `${action}: ${answer.error || `exit ${answer.exitCode}`}${res.ok ? "" : ` (HTTP ${res.status})`}`;
  } catch (error) {
    result.className = "error";
    result.textContent = `${action}: ${error.message}`;
  }
  await load();
}

function start() {
  $("token").value = sessionStorage.getItem("upkeep-token") || "";
  $("silence-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const service = $("silence-service").value;
    act("silence-add", {
      ...(service === "" ? {} : { service }),
      for: $("silence-for").value.trim(),
      comment: $("silence-comment").value.trim(),
      pauseHealing: $("silence-pause").checked,
    });
  });
  load();
  if (typeof EventSource === "function") {
    const events = new EventSource("/api/events");
    events.addEventListener("change", () => load());
  }
  window.setInterval(() => load(), 30000);
}

document.addEventListener("DOMContentLoaded", start);
