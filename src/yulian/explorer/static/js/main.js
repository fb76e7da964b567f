// The explorer's entry point: hash routes to pages, the search box, the language switch and
// the live-status line. Every page module is imported here, up front, so that the verify page
// keeps working once the network is unplugged.

import { clear, h } from "./dom.js";
import { applyStatic, currentLang, onLangChange, setLang, t } from "./i18n.js";
import { subscribe } from "./live.js";
import * as block from "./pages/block.js";
import * as blocks from "./pages/blocks.js";
import * as config from "./pages/config.js";
import * as contracts from "./pages/contracts.js";
import * as events from "./pages/events.js";
import * as governance from "./pages/governance.js";
import * as overview from "./pages/overview.js";
import * as search from "./pages/search.js";
import * as state from "./pages/state.js";
import * as tx from "./pages/tx.js";
import * as verify from "./pages/verify.js";

const ROUTES = [
  [/^\/?$/, overview, "overview"],
  [/^\/blocks$/, blocks, "blocks"],
  [/^\/block\/(\d+)$/, block, "blocks"],
  [/^\/tx\/([0-9a-fA-F]+)$/, tx, "blocks"],
  [/^\/state$/, state, "state"],
  [/^\/contracts$/, { render: contracts.renderList }, "contracts"],
  [/^\/contract\/([^/]+)$/, contracts, "contracts"],
  [/^\/governance$/, governance, "governance"],
  [/^\/events$/, events, "events"],
  [/^\/config$/, config, "config"],
  [/^\/verify$/, verify, "verify"],
  [/^\/search$/, search, null],
];

let cleanup = null;
let renderId = 0;

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  return { path, params: new URLSearchParams(query) };
}

async function render({ focus = true } = {}) {
  const id = ++renderId;
  if (cleanup) cleanup();
  cleanup = null;
  const main = document.getElementById("main");
  const { path, params } = parseHash();
  const route = ROUTES.find(([re]) => re.test(path));
  for (const a of document.querySelectorAll("nav a[data-route]")) {
    if (route && a.dataset.route === route[2]) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  clear(main);
  if (!route) {
    main.append(h("h1", {}, t("not_found_title")), h("p", {}, t("not_found_text")));
    return;
  }
  const [re, page] = route;
  const match = path.match(re);
  const view = h("div", { class: "page", "aria-busy": "true" });
  main.append(view);
  try {
    cleanup = (await page.render(view, { match, params })) ?? null;
  } catch (e) {
    if (id !== renderId) return;
    clear(view);
    view.append(h("h1", {}, t("error_title")), h("p", { class: "error", role: "alert" }, e.message));
  }
  view.setAttribute("aria-busy", "false");
  if (id !== renderId) return;
  const heading = view.querySelector("h1");
  document.title = `${heading ? heading.textContent + " · " : ""}${t("brand")}`;
  if (focus) main.focus({ preventScroll: true });
}

function setupSearch() {
  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = document.getElementById("search-input").value.trim();
    if (q) location.hash = `#/search?q=${encodeURIComponent(q)}`;
  });
}

function setupLang() {
  const button = document.getElementById("lang-switch");
  const label = () => {
    const other = currentLang() === "zh-CN" ? "en" : "zh-CN";
    button.textContent = other === "en" ? "English" : "中文";
    button.lang = other;
    button.setAttribute("aria-label", t("switch_language"));
  };
  button.addEventListener("click", () => setLang(currentLang() === "zh-CN" ? "en" : "zh-CN"));
  onLangChange(() => {
    label();
    render({ focus: false });
  });
  label();
}

function setupLive() {
  const status = document.getElementById("live-status");
  let last = null;
  const show = (event) => {
    if (event.type === "head") {
      status.dataset.state = "online";
      status.textContent = t("live_height", { height: event.health.height });
    } else if (event.type === "offline") {
      status.dataset.state = "offline";
      status.textContent = t("live_offline");
    }
  };
  subscribe((event) => {
    if (event.type !== "block") {
      last = event;
      show(event);
    }
  });
  onLangChange(() => last && show(last));
}

applyStatic();
setupSearch();
setupLang();
setupLive();
window.addEventListener("hashchange", () => render());
render({ focus: false });
