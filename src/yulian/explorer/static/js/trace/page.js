// The public trace page of a batch (trace.html?batch=ID): what a consumer sees after scanning
// the QR code on a product's label. Read-only and public: it asks the node's query API, as
// anyone may, for the batch, its events (64 a page) and, through its parents, every batch it
// was split or merged from (nearest first, at most MAX_BATCHES) — what
// yulian.apps.trace.TraceApp.public_trace assembles in Python. Nothing from the chain is ever
// parsed as HTML (dom.js builds text nodes). zh-CN first; the choice of language is the
// explorer's (same storage key).

import { api, ApiError } from "../api.js";
import { clear, h } from "../dom.js";
import { MESSAGES } from "./messages.js";

const CONTRACT = "trace";
const PAGE = 64;
const MAX_BATCHES = 64;
const STORAGE_KEY = "yulian.explorer.lang";

let lang = (() => {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && MESSAGES[saved]) return saved;
  } catch {
    /* storage may be unavailable: the default applies */
  }
  return "zh-CN";
})();
let shown = null; // the last trace read, re-rendered when the language changes

/** A read of the trace contract: its value, or ApiError with the receipt's status as the code
(an unknown batch is "reverted"). */
async function query(method, args) {
  const answer = await api.query(CONTRACT, method, args);
  if (answer.status !== "ok") throw new ApiError(400, { code: answer.status, detail: answer.message });
  return answer.value;
}

function tr(key, params = {}) {
  const text = MESSAGES[lang][key] ?? MESSAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

function kindName(kind) {
  const key = `kind_${kind}`;
  return key in MESSAGES[lang] ? tr(key) : kind;
}

function applyStatic() {
  document.documentElement.lang = lang;
  document.title = `${tr("title")} · ${lang === "en" ? "渝链" : "Yulian"}`;
  for (const el of document.querySelectorAll("[data-text]")) el.textContent = tr(el.dataset.text);
  for (const el of document.querySelectorAll("[data-placeholder]")) el.placeholder = tr(el.dataset.placeholder);
  const button = document.getElementById("lang-switch");
  button.textContent = tr("switch_to");
  button.lang = lang === "en" ? "zh-CN" : "en";
}

function when(ms) {
  return new Date(Number(ms)).toLocaleString(lang, { hour12: false });
}

async function events(batchId, count) {
  const out = [];
  while (out.length < count) {
    const page = await query("get_events", [batchId, out.length, PAGE]);
    if (!page.length) break;
    out.push(...page);
  }
  return out;
}

/** The batch, its events and its origins, as TraceApp.public_trace reads them. */
async function readTrace(batchId) {
  const seen = new Set();
  const queue = [batchId];
  const lineage = [];
  while (queue.length && seen.size < MAX_BATCHES) {
    const current = queue.shift();
    if (seen.has(current)) continue;
    seen.add(current);
    const batch = await query("get_batch", [current]);
    lineage.push({ batch, events: await events(current, Number(batch.events)) });
    queue.push(...batch.parents);
  }
  return { batch: lineage[0].batch, events: lineage[0].events, origins: lineage.slice(1), complete: !queue.length };
}

function eventItem(e) {
  const data = Object.entries(e.data ?? {});
  return h(
    "li",
    { dataset: { kind: e.kind } },
    h("div", { class: "event-kind" }, kindName(e.kind)),
    h(
      "div",
      { class: "event-meta" },
      e.role ? tr("by", { org: e.org, role: e.role }) : tr("by_org", { org: e.org }),
      " · ",
      h("time", { datetime: new Date(Number(e.time)).toISOString() }, when(e.time)),
      " · ",
      h("a", { href: `./#/tx/${e.tx}`, title: e.tx }, tr("at_height", { height: e.height })),
    ),
    data.length
      ? h("dl", { class: "event-data" }, data.map(([k, v]) => [h("dt", {}, k), h("dd", {}, Array.isArray(v) ? v.join(", ") : String(v))]))
      : null,
  );
}

function batchSection(entry, level, headingId) {
  const b = entry.batch;
  const heading = h(level, { id: headingId }, `${tr("batch")} ${b.id}`);
  return h(
    "section",
    { class: "batch-card", "aria-labelledby": headingId, dataset: { batch: b.id } },
    heading,
    h("p", { class: "product" }, b.product),
    h(
      "dl",
      { class: "fields" },
      h("dt", {}, tr("quantity")),
      h("dd", {}, `${b.quantity} ${b.unit}`),
      h("dt", {}, tr("template")),
      h("dd", {}, b.template),
      h("dt", {}, tr("status")),
      h("dd", {}, h("span", { class: "badge", dataset: { status: b.status } }, tr(`status_${b.status}`))),
      h("dt", {}, tr("custodian")),
      h("dd", { class: "custodian" }, b.custodian),
      h("dt", {}, tr("created")),
      h("dd", {}, `${when(b.time)} · ${b.created_by} · ${tr("at_height", { height: b.height })}`),
    ),
    h("h3", {}, `${tr("story")} (${tr("events_count", { count: entry.events.length })})`),
    h("ol", { class: "timeline" }, entry.events.map(eventItem)),
  );
}

function render(trace) {
  const main = clear(document.getElementById("main"));
  main.append(batchSection({ batch: trace.batch, events: trace.events }, "h1", "batch-title"));
  if (trace.origins.length) {
    main.append(
      h(
        "section",
        { class: "origins", "aria-labelledby": "origins-title" },
        h("h2", { id: "origins-title" }, tr("origins")),
        h("p", { class: "origins-note" }, tr("origins_note")),
        trace.origins.map((o, i) => batchSection(o, "h3", `origin-${i}`)),
        trace.complete ? null : h("p", {}, tr("incomplete", { count: MAX_BATCHES })),
      ),
    );
  }
  main.setAttribute("aria-busy", "false");
}

function status(text, state = "") {
  const main = clear(document.getElementById("main"));
  main.append(h("p", { class: "trace-status", role: "status", "aria-live": "polite", dataset: { state } }, text));
  main.setAttribute("aria-busy", state === "loading" ? "true" : "false");
}

async function show(batchId) {
  shown = null;
  if (!batchId) {
    status(tr("ask"));
    return;
  }
  status(tr("loading", { batch: batchId }), "loading");
  try {
    shown = await readTrace(batchId);
    render(shown);
  } catch (e) {
    if (e instanceof ApiError && e.code === "reverted") status(tr("not_found", { batch: batchId }), "error");
    else status(tr("unreachable", { detail: e.message }), "error");
  }
}

function start() {
  applyStatic();
  const batchId = new URLSearchParams(location.search).get("batch") ?? "";
  const input = document.getElementById("batch-input");
  input.value = batchId;
  document.getElementById("batch-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const next = input.value.trim();
    history.pushState(null, "", `?batch=${encodeURIComponent(next)}`);
    show(next);
  });
  window.addEventListener("popstate", () => show(new URLSearchParams(location.search).get("batch") ?? ""));
  document.getElementById("lang-switch").addEventListener("click", () => {
    lang = lang === "en" ? "zh-CN" : "en";
    try {
      localStorage.setItem(STORAGE_KEY, lang);
    } catch {
      /* not kept across visits, still switched */
    }
    applyStatic();
    if (shown) render(shown);
    else show(new URLSearchParams(location.search).get("batch") ?? "");
  });
  show(batchId);
}

start();
