// depositd ops page: asks for an API token (kept in localStorage), checks it,
// then follows GET /v1/events/stream and redraws the tables on each snapshot.
// Everything is rendered with textContent: no server data becomes HTML.
"use strict";

const TOKEN_KEY = "depositd.token";
const $ = (id) => document.getElementById(id);
let source = null;

function setStatus(text, cls) {
  const s = $("status");
  s.textContent = text;
  s.className = "status " + (cls || "");
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null ? "" : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function fill(tableId, rows, render) {
  const body = $(tableId).querySelector("tbody");
  const out = [];
  for (const r of rows) {
    const tr = document.createElement("tr");
    render(tr, r);
    out.push(tr);
  }
  if (out.length === 0) {
    const tr = document.createElement("tr");
    const td = cell(tr, "none");
    td.colSpan = $(tableId).querySelectorAll("thead th").length;
    td.className = "empty";
    out.push(tr);
  }
  body.replaceChildren(...out);
}

function time(t) {
  if (!t || t.startsWith("0001-")) return "";
  return new Date(t).toLocaleString();
}

function short(s) {
  return s && s.length > 16 ? s.slice(0, 8) + "…" + s.slice(-6) : s;
}

function endpoints(td, eps) {
  for (const e of eps || []) {
    const span = document.createElement("span");
    const name = e.Name || e.URL || "endpoint";
    span.textContent = name + (e.Role ? " (" + e.Role + ")" : "") + (e.Healthy ? " ✓ " : " ✗ ");
    span.className = e.Healthy ? (e.Lagging ? "lagging" : "healthy") : "unhealthy";
    if (e.LastError) span.title = e.LastError;
    td.appendChild(span);
  }
}

function render(snap) {
  $("problems").textContent = (snap.problems || []).join("; ");
  fill("chains", snap.chains, (tr, c) => {
    tr.dataset.chain = c.name;
    cell(tr, c.name);
    cell(tr, c.head, "num");
    cell(tr, c.scanned, "num");
    cell(tr, c.final, "num");
    cell(tr, c.lag, "num" + (c.lag > 0 ? " lagging" : ""));
    cell(tr, c.paused ? "paused" : c.last_error ? "error: " + c.last_error : "running", c.paused ? "paused" : c.last_error ? "error" : "healthy");
    cell(tr, c.holder || "nobody (lease free)", c.holder ? "" : "lagging");
    endpoints(cell(tr, ""), c.endpoints);
  });
  fill("deposits", snap.deposits, (tr, d) => {
    tr.dataset.id = d.id;
    tr.className = d.status;
    cell(tr, time(d.seen_at));
    cell(tr, d.chain);
    cell(tr, d.token);
    cell(tr, d.amount, "num");
    cell(tr, d.account);
    cell(tr, d.block, "num");
    const conf = cell(tr, "", "conf");
    const bar = document.createElement("progress");
    bar.max = d.required || 1;
    bar.value = Math.min(d.confirmations, bar.max);
    const n = document.createElement("span");
    n.className = "n";
    n.textContent = d.confirmations + "/" + d.required;
    conf.append(bar, n);
    cell(tr, d.status, "state");
    cell(tr, short(d.tx), "mono").title = d.tx;
  });
  fill("failures", snap.webhook_failures, (tr, f) => {
    cell(tr, time(f.updated_at));
    cell(tr, f.endpoint);
    cell(tr, f.event_type);
    cell(tr, f.status, "error");
    cell(tr, f.attempts, "num");
    cell(tr, (f.last_status ? "HTTP " + f.last_status + " " : "") + (f.last_error || ""));
  });
  fill("statements", snap.statements, (tr, s) => {
    tr.dataset.id = s.id;
    cell(tr, s.id);
    cell(tr, s.account);
    cell(tr, s.month);
    cell(tr, s.status, s.status);
    cell(tr, time(s.due_at));
    cell(tr, s.amount, "num");
    cell(tr, s.due, "num");
  });
  $("updated").textContent = time(snap.at);
}

// check asks the stream route with the token in a header and stops reading
// as soon as the status is known.
async function check(token) {
  const ac = new AbortController();
  const resp = await fetch("/v1/events/stream", { headers: { Authorization: "Bearer " + token }, signal: ac.signal });
  ac.abort();
  return resp.status;
}

function connect(token) {
  if (source) source.close();
  $("login").hidden = true;
  $("board").hidden = false;
  $("forget").hidden = false;
  setStatus("connecting…");
  source = new EventSource("/v1/events/stream?token=" + encodeURIComponent(token));
  source.addEventListener("snapshot", (ev) => {
    setStatus("live", "live");
    render(JSON.parse(ev.data));
  });
  source.onerror = () => setStatus(source.readyState === EventSource.CLOSED ? "disconnected" : "reconnecting…", "down");
}

function showLogin(message) {
  if (source) source.close();
  source = null;
  $("board").hidden = true;
  $("forget").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  setStatus("not connected");
  $("token").focus();
}

async function start(token) {
  let status;
  try {
    status = await check(token);
  } catch (e) {
    showLogin("cannot reach depositd: " + e.message);
    return;
  }
  if (status === 200) {
    localStorage.setItem(TOKEN_KEY, token);
    connect(token);
  } else if (status === 401 || status === 403) {
    localStorage.removeItem(TOKEN_KEY);
    showLogin(status === 401 ? "token rejected" : "token lacks the read scope");
  } else {
    showLogin("unexpected answer: HTTP " + status);
  }
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  start($("token").value.trim());
});
$("forget").addEventListener("click", () => {
  localStorage.removeItem(TOKEN_KEY);
  showLogin("");
});

const saved = localStorage.getItem(TOKEN_KEY);
if (saved) start(saved);
else showLogin("");
