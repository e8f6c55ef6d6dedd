/* app.js — the subnode network dashboard (docs/MANAGER.md, The dashboard).
 *
 * Plain JavaScript, no library, no build step: the manager serves this file
 * from its binary under a strict Content-Security-Policy, so everything here
 * is built through the DOM (textContent, never innerHTML with data) and the
 * charts are SVG elements with attributes.
 *
 * Data: one stream, GET /v1/events (server-sent events read through fetch,
 * because EventSource cannot send an Authorization header and the token
 * must never be in a URL). Its first `state` event has the nodes' CPU and
 * memory history; each later one has the whole state with each node's last
 * sample, which is appended here (at most SERIES_LEN points a node, like
 * the manager's ring). The events timeline reads /v1/log and /v1/verify
 * when the log grows. Actions are the API's admin routes with the token
 * from sessionStorage; without one the manager refuses them (401) and the
 * page says so.
 */
"use strict";

const SERIES_LEN = 120;
const TOKEN_KEY = "subnode.admin-token";
const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(TOKEN_KEY) || "";
let readOnly = false;          // showing without a token (the manager allows it)
let history = {};              // node → {time: [], cpu: [], mem: []}
let lastState = null;
let logSeq = -1;
let streamAbort = null;
let drawn = {};                // what the tables show now (onState)
let retryTimer = null;

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids) if (kid !== null && kid !== undefined)
    e.append(kid instanceof Node ? kid : String(kid));
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

async function api(method, path, body) {
  const init = { method, headers: headers(body ? { "Content-Type": "application/json" } : null),
                 cache: "no-store" };
  if (body) init.body = JSON.stringify(body);
  const r = await fetch(path, init);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  return { status: r.status, ok: r.ok, data };
}

function notice(msg, refused) {
  const n = $("notice");
  n.textContent = msg;
  n.className = refused ? "refused" : "";
}

/* ---- sign in / out */

function showLogin(why) {
  $("main").hidden = true;
  $("login").hidden = false;
  $("signout").hidden = true;
  $("signin").hidden = true;
  $("login-msg").textContent = why || "";
  setLive(false, "no token");
  $("token").focus();
}

function showMain() {
  $("login").hidden = true;
  $("main").hidden = false;
  $("signout").hidden = !token;
  $("signin").hidden = !!token;
  $("mode").textContent = token ? "admin" : "read-only: actions need the admin token";
  document.body.classList.toggle("readonly", !token);
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  $("token").value = "";
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  connect();
});

$("signout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  token = "";
  connect();
});

$("signin").addEventListener("click", () => showLogin(""));

/* ---- the stream */

function setLive(on, text) {
  const l = $("live");
  l.textContent = text;
  l.className = on ? "on" : "off";
}

function connect() {
  if (streamAbort) streamAbort.abort();
  clearTimeout(retryTimer);
  const ctl = new AbortController();
  streamAbort = ctl;
  setLive(false, "connecting…");
  readStream(ctl).catch((e) => {
    if (ctl.signal.aborted) return;
    setLive(false, "disconnected: retrying");
    retryTimer = setTimeout(connect, 1000);
  });
}

async function readStream(ctl) {
  const r = await fetch("/v1/events", { headers: headers(), signal: ctl.signal, cache: "no-store" });
  if (r.status === 401) {
    let msg = "";
    try { msg = (await r.json()).message; } catch (e) { /* keep it empty */ }
    if (token) {
      sessionStorage.removeItem(TOKEN_KEY);
      token = "";
      showLogin("The manager refused this token (" + msg + ").");
    } else {
      showLogin("");
    }
    return;
  }
  if (!r.ok) throw new Error("events: HTTP " + r.status);
  readOnly = !token;
  drawn = {};
  showMain();
  setLive(true, "live");
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("stream ended");
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let ev = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) ev = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trimStart();
      }
      if (ev === "state" && data) onState(JSON.parse(data));
      else if (ev === "problem" && data) notice(JSON.parse(data).message, true);
    }
  }
}

/* ---- rendering */

const STATE_MARK = { active: "●", maintenance: "◐", leaving: "⇢", left: "○", down: "✕", joining: "…" };

function stateBadge(state) {
  return el("span", { class: "st st-" + state, text: (STATE_MARK[state] || "?") + " " + state });
}

function pct(x) { return (Math.round(x * 10) / 10).toFixed(1) + " %"; }
function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + " " + u[i];
}
function when(ms) { return new Date(ms).toLocaleTimeString([], { hour12: false }); }

function onState(s) {
  lastState = s;
  if (!window.firstDrawMs) window.firstDrawMs = 0;   // set below, once drawn
  if (s.series) {
    history = {};
    for (const [name, h] of Object.entries(s.series))
      history[name] = { time: h.time.slice(), cpu: h.cpu.slice(), mem: h.memory.slice(),
                        rx: (h.net_rx || []).slice(), tx: (h.net_tx || []).slice() };
  }
  for (const n of s.nodes) {
    const h = history[n.name] || (history[n.name] = { time: [], cpu: [], mem: [], rx: [], tx: [] });
    const x = n.sample;
    if (x && (!h.time.length || x.time > h.time[h.time.length - 1])) {
      h.time.push(x.time); h.cpu.push(x.cpu); h.mem.push(x.memory);
      h.rx.push(x.net_rx === undefined ? null : x.net_rx);
      h.tx.push(x.net_tx === undefined ? null : x.net_tx);
      h.total = x.memory_total;
      if (h.time.length > SERIES_LEN) for (const k of ["time", "cpu", "mem", "rx", "tx"]) h[k].shift();
    } else if (x) {
      h.total = x.memory_total;
    }
  }
  const focused = document.activeElement && document.activeElement.id;
  // Tables are drawn again only when what they show changed (not at each
  // heartbeat), so that a focused button stays where it is.
  const nodesKey = JSON.stringify(s.nodes.map((n) => [n.name, n.state, n.operator, n.units,
    n.units_used, n.members]));
  const chainsKey = JSON.stringify(s.chains) + nodesKey;
  if (nodesKey !== drawn.nodes) renderNodes(s);
  else updateLoads(s);
  renderGraphs(s);
  if (chainsKey !== drawn.chains) {
    renderChains(s);
    renderChainView(s);
    renderMatrix(s);
  }
  drawn.nodes = nodesKey;
  drawn.chains = chainsKey;
  if (focused && $(focused) && document.activeElement !== $(focused)) $(focused).focus();
  // when this page first showed the network (bench/manager/dashboard.sh)
  if (!window.firstDrawMs) window.firstDrawMs = Math.round(performance.now());
  if (s.log_seq !== logSeq) {
    logSeq = s.log_seq;
    loadEvents();
  }
}

/* A button for an admin action; a destructive one asks for a second
   press within 5 s (no dialog: the keyboard and tests reach it alike). The
   tables are drawn again when what they show changes, so pending confirmations are
   kept here, by button id. */
const confirming = {};

function actionButton(label, aria, id, fn, opts) {
  const armed = () => (confirming[id] || 0) > Date.now();
  const b = el("button", { type: "button", "aria-label": aria, id, "data-action": label,
                           text: armed() ? "Confirm " + label.toLowerCase() : label,
                           class: armed() ? "confirm" : null, disabled: opts && opts.disabled });
  b.addEventListener("click", async () => {
    if (opts && opts.confirm && !armed()) {
      confirming[id] = Date.now() + 5000;
      b.classList.add("confirm");
      b.textContent = "Confirm " + label.toLowerCase();
      return;
    }
    delete confirming[id];
    b.disabled = true;
    try {
      const r = await fn();
      if (r.ok) notice(aria + ": done.", false);
      else notice(aria + ": refused (" + r.status + "): " + ((r.data && r.data.message) || ""), true);
    } catch (e) {
      notice(aria + ": " + e.message, true);
    }
    b.disabled = false;
  });
  return b;
}

function keyed(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function renderNodes(s) {
  $("nodes-count").textContent = "(" + s.nodes.length + ")";
  const rows = s.nodes.map((n) => {
    const free = n.units - n.units_used;
    const x = n.sample;
    const st = n.state;
    const acts = el("td", {},
      actionButton("Maintenance", "Put node " + n.name + " in maintenance", "act-maint-" + n.name,
                   () => api("POST", "/v1/nodes/" + encodeURIComponent(n.name) + "/maintenance"),
                   { disabled: st !== "active" }),
      actionButton("Activate", "Activate node " + n.name, "act-activate-" + n.name,
                   () => api("POST", "/v1/nodes/" + encodeURIComponent(n.name) + "/activate"),
                   { disabled: st !== "maintenance" }),
      actionButton("Leave", "Make node " + n.name + " leave", "act-leave-" + n.name,
                   () => api("POST", "/v1/nodes/" + encodeURIComponent(n.name) + "/leave"),
                   { confirm: true, disabled: !["active", "maintenance", "down"].includes(st) }));
    return el("tr", { "data-node": n.name, "data-state": st },
      el("th", { scope: "row", text: n.name }),
      el("td", {}, stateBadge(st)),
      el("td", { text: n.operator }),
      el("td", { text: n.units_used + " / " + free }),
      el("td", { "data-load": "cpu", text: cpuText(x) }),
      el("td", { "data-load": "mem", text: memText(x) }),
      el("td", { text: (n.members || []).map((m) => m.chain + "-" + m.index).join(", ") || "–" }),
      acts);
  });
  keyed($("nodes").tBodies[0], rows);
}

function cpuText(x) { return x ? pct(x.cpu) : "–"; }
function memText(x) {
  return x ? bytes(x.memory) + (x.memory_total ? " of " + bytes(x.memory_total) : "") : "–";
}

/* Only the figures of each node's row, in place. */
function updateLoads(s) {
  for (const n of s.nodes) {
    const row = document.querySelector('#nodes tr[data-node="' + CSS.escape(n.name) + '"]');
    if (!row) continue;
    row.querySelector('[data-load="cpu"]').textContent = cpuText(n.sample);
    row.querySelector('[data-load="mem"]').textContent = memText(n.sample);
  }
}

/* An SVG line chart of series over the ring's time span: each line
   [values, css class] scaled to 0..max. */
function chart(h, lines, max) {
  const W = 240, H = 60;
  const g = svg("svg", { class: "chart", viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none",
                         role: "img" });
  for (const y of [0, H / 2, H]) g.append(svg("line", { class: "grid", x1: 0, x2: W, y1: y, y2: y }));
  const n = h.time.length;
  if (n < 1) return g;
  const t1 = h.time[n - 1], t0 = t1 - SERIES_LEN * 1000;
  const xs = (t) => Math.max(0, (t - t0) / (t1 - t0) * W).toFixed(1);
  for (const [vals, cls] of lines) {
    const pts = [];
    vals.forEach((v, i) => {
      if (v !== null && v !== undefined)
        pts.push(xs(h.time[i]) + "," + (H - Math.min(max, Math.max(0, v)) / max * H).toFixed(1));
    });
    if (pts.length) g.append(svg("polyline", { class: cls, points: pts.join(" ") }));
  }
  return g;
}

/* Bytes a second between samples (null where a counter is missing or went back). */
function rates(h, key) {
  return h[key].map((v, i) => {
    const p = i ? h[key][i - 1] : null;
    if (v === null || p === null || v < p) return null;
    return (v - p) / Math.max(0.001, (h.time[i] - h.time[i - 1]) / 1000);
  });
}

function renderGraphs(s) {
  const figs = s.nodes.filter((n) => n.state !== "left").map((n) => {
    const h = history[n.name] || { time: [], cpu: [], mem: [], rx: [], tx: [] };
    const k = h.time.length - 1;
    const memPct = h.total ? h.mem.map((m) => m / h.total * 100) : [];
    const c = chart(h, [[h.cpu, "cpu"], [memPct, "mem"]], 100);
    const desc = k >= 0 ? "CPU " + pct(h.cpu[k]) + (h.total ? ", memory " + pct(memPct[k]) : "")
                        : "no samples yet";
    c.setAttribute("aria-label", "Node " + n.name + ": " + desc);
    const rx = rates(h, "rx"), tx = rates(h, "tx");
    const top = Math.max(1024, ...rx.filter((v) => v !== null), ...tx.filter((v) => v !== null));
    const net = chart(h, [[rx, "rx"], [tx, "tx"]], top);
    net.classList.add("net");
    const ndesc = k > 0 && rx[k] !== null ? "network ↓ " + bytes(rx[k]) + "/s ↑ " + bytes(tx[k]) + "/s" +
                  " (scale " + bytes(top) + "/s)" : "network: no samples yet";
    net.setAttribute("aria-label", "Node " + n.name + ": " + ndesc);
    return el("figure", { "data-node": n.name }, el("figcaption", {},
      el("span", { text: n.name }), el("span", { text: desc })), c,
      el("figcaption", {}, el("span", { text: ndesc })), net);
  });
  $("graphs").replaceChildren(...figs);
}

function renderChains(s) {
  $("chains-count").textContent = "(" + s.chains.length + ")";
  const rows = s.chains.map((c) => el("tr", { "data-chain": c.name },
    el("th", { scope: "row" }, el("button", { type: "button", class: "link", id: "open-" + c.name,
      "aria-expanded": String(shownChain === c.name), "aria-controls": "chain-view", text: c.name,
      onclick: () => toggleChain(c.name) })),
    el("td", { text: c.size + " (" + c.units + " u)" }),
    el("td", { text: c.members }),
    el("td", { text: c.running + " of " + c.members }),
    el("td", { text: c.image }),
    el("td", { text: c.seats.map((x) => x.node || "vacant").join(", ") }),
    el("td", {}, actionButton("Remove", "Remove chain " + c.name, "act-rm-" + c.name,
                              () => api("DELETE", "/v1/chains/" + encodeURIComponent(c.name)),
                              { confirm: true }))));
  keyed($("chains").tBodies[0], rows);
}

/* The chain view: each member's node, address, ports, state and health. */
let shownChain = "";

function toggleChain(name) {
  shownChain = shownChain === name ? "" : name;
  renderChains(lastState);
  renderChainView(lastState);
  $("open-" + name).focus();
}

function renderChainView(s) {
  const v = $("chain-view");
  const c = s.chains.find((x) => x.name === shownChain);
  v.hidden = !c;
  if (!c) return;
  $("chain-view-title").textContent = "Chain " + c.name + " (" + c.id + "): " + c.running + " of " +
    c.members + " running, image " + c.image;
  const rows = c.seats.map((x) => el("tr", { "data-member": c.name + "-" + x.index },
    el("th", { scope: "row", text: c.name + "-" + x.index }),
    el("td", { text: x.node || "–" }),
    el("td", {}, x.node_state ? stateBadge(x.node_state) : "–"),
    el("td", { text: x.address || "–" }),
    el("td", { text: x.ports ? x.ports.first + "–" + x.ports.last : "–" }),
    el("td", { text: x.state + (x.health ? " · " + x.health : "") }),
    el("td", { text: x.since ? when(x.since) : "–" }),
    el("td", { text: x.from ? "from " + x.from + " (" + (x.from_state || "") + ")" : "–" })));
  $("chain-members").tBodies[0].replaceChildren(...rows);
}

function memberCell(seat, node) {
  if (seat.node === node) {
    const moving = seat.from ? " ⇠ from " + seat.from : "";
    const ok = seat.state === "running" && seat.health !== "unhealthy";
    const cls = seat.from ? "moving" : ok ? "running" : seat.health === "unhealthy" ? "unhealthy" : "warn";
    const mark = seat.from ? "⇢" : ok ? "▶" : "!";
    const text = mark + " " + seat.state + (seat.health ? " · " + seat.health : "") + moving;
    return el("td", { "data-state": seat.state, "data-health": seat.health || "" },
              el("span", { class: "st st-" + cls, text }));
  }
  if (seat.from === node)
    return el("td", { "data-state": "moving-away" },
              el("span", { class: "st st-moving", text: "⇢ " + (seat.from_state || "") + " → " + seat.node }));
  return el("td", { class: "empty", text: "–" });
}

function renderMatrix(s) {
  const cols = [];
  for (const c of s.chains) for (const seat of c.seats) cols.push({ chain: c.name, seat });
  const head = el("tr", {}, el("th", { scope: "col", text: "Node" }),
                  ...cols.map((x) => el("th", { scope: "col", text: x.chain + "-" + x.seat.index })));
  $("matrix").tHead.replaceChildren(head);
  const nodes = s.nodes.filter((n) => n.state !== "left");
  const rows = nodes.map((n) => el("tr", { "data-node": n.name },
    el("th", { scope: "row" }, n.name + " ", stateBadge(n.state)),
    ...cols.map((x) => {
      const td = memberCell(x.seat, n.name);
      td.setAttribute("data-member", x.chain + "-" + x.seat.index);
      return td;
    })));
  const vacant = cols.filter((x) => !x.seat.node);
  if (vacant.length)
    rows.push(el("tr", {}, el("th", { scope: "row", text: "(no node)" }),
      ...cols.map((x) => x.seat.node ? el("td", { class: "empty", text: "–" })
                                     : el("td", {}, el("span", { class: "st st-vacant", text: "✕ vacant" })))));
  $("matrix").tBodies[0].replaceChildren(...rows);
}

/* ---- events: the decision log, each entry checked by /v1/verify */

function summary(e) {
  switch (e.kind) {
    case "genesis": return "the network's genesis";
    case "epoch": return "epoch " + e.epoch + (e.beacon ? " (beacon)" : "");
    case "place": return "chain " + e.chain + ": " + e.cause + " → seats " + (e.seats || []).join(", ") +
                         " on " + (e.picked || []).join(", ");
    case "release": return "chain " + e.chain + " member " + e.index + ": retired on " + e.node +
                           (e.to ? ", runs on " + e.to : "") + " (" + e.cause + ")";
    case "node": return "node " + e.node + ": " + e.from + " → " + e.to + " (" + e.cause + ")";
    case "chain-rm": return "chain " + e.chain + " removed";
    default: return e.kind;
  }
}

async function loadEvents() {
  const [log, ver] = await Promise.all([
    fetch("/v1/log", { headers: headers(), cache: "no-store" }),
    api("GET", "/v1/verify")]);
  if (!log.ok) return;
  const lines = (await log.text()).split("\n").filter((l) => l);
  const bad = new Set();
  const report = ver.ok && ver.data ? ver.data.report || "" : "";
  for (const m of report.matchAll(/^line (\d+):/gm)) bad.add(Number(m[1]));
  $("verify-summary").textContent = ver.ok && ver.data
    ? (ver.data.ok ? "✓ The whole log verifies: " : "✗ The log does not verify: ") + ver.data.entries +
      " entries, " + ver.data.placements + " placements re-computed."
    : "Verify: unavailable.";
  const items = [];
  const first = Math.max(0, lines.length - 200);
  for (let i = lines.length - 1; i >= first; i--) {
    let e;
    try { e = JSON.parse(lines[i]); } catch (x) { continue; }
    const ok = !bad.has(i + 1);
    const id = "entry-" + e.seq;
    items.push(el("li", { id, "data-kind": e.kind, "data-verifies": ok ? "yes" : "no" },
      el("a", { href: "#" + id, text: "#" + e.seq }), " ",
      el("span", { class: "when", text: when(e.time) }),
      el("span", { class: "kind", text: e.kind }),
      summary(e), " ",
      el("span", { class: ok ? "ver-ok" : "ver-bad", text: ok ? "✓ verifies" : "✗ does not verify" }),
      el("details", {}, el("summary", { text: "entry " + e.seq + " (hash " + String(e.hash).slice(0, 12) + "…)" }),
         el("pre", { text: JSON.stringify(e, null, 1) }))));
  }
  $("events").replaceChildren(...items);
}

/* ---- create a chain */

$("create-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = { name: $("c-name").value.trim(), image: $("c-image").value.trim(),
                 size: $("c-size").value };
  if ($("c-members").value) body.members = Number($("c-members").value);
  if ($("c-cmd").value.trim()) body.cmd = ["sh", "-c", $("c-cmd").value.trim()];
  $("c-submit").disabled = true;
  try {
    const r = await api("POST", "/v1/chains", body);
    if (r.ok) {
      notice("Chain " + body.name + " created: " + r.data.placed + " of " + r.data.members + " members placed.", false);
      $("c-name").value = "";
    } else {
      notice("Create chain " + body.name + ": refused (" + r.status + "): " + ((r.data && r.data.message) || ""), true);
    }
  } catch (e) {
    notice("Create chain: " + e.message, true);
  }
  $("c-submit").disabled = false;
});

connect();
