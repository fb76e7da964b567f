// Events: the REST page of the node's event index (/v1/events), filtered by contract, event
// name and key prefix, paged by its cursor; with "follow", new events of the same filter
// arrive through the event stream as blocks commit.

import { api, ApiError } from "../api.js";
import { h, section } from "../dom.js";
import { blockLink, json, link, txLink } from "../format.js";
import { t } from "../i18n.js";
import { subscribe } from "../live.js";

const LIMIT = 50;

function utf8Hex(text) {
  return Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");
}

function hexText(hex) {
  const bytes = new Uint8Array((hex.match(/../g) ?? []).map((x) => parseInt(x, 16)));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return hex;
  }
}

function row(e) {
  return h(
    "tr",
    { dataset: { cursor: e.cursor } },
    [blockLink(e.height), txLink(e.tx_id, 6), e.contract, e.name, hexText(e.key), json(e.payload)].map((c) => h("td", {}, c)),
  );
}

export async function render(view, { params }) {
  const filter = {
    contract: params.get("contract") ?? "",
    name: params.get("name") ?? "",
    key: params.get("key") ?? "",
  };
  const after = params.get("after") ?? "";
  const input = (id, name, label, value) => [
    h("label", { for: id }, label),
    h("input", { id, name, value, autocomplete: "off" }),
  ];
  const form = h(
    "form",
    { class: "inline-form", id: "events-form" },
    input("events-contract", "contract", t("contract"), filter.contract),
    input("events-name", "name", t("event_name"), filter.name),
    input("events-key", "key", t("key_prefix"), filter.key),
    h("button", { type: "submit" }, t("show")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = new URLSearchParams();
    for (const k of ["contract", "name", "key"]) if (form.elements[k].value.trim()) q.set(k, form.elements[k].value.trim());
    location.hash = `#/events?${q}`;
  });
  const query = {
    contract: filter.contract,
    name: filter.name,
    key_prefix: filter.key ? utf8Hex(filter.key) : "",
  };
  // a node that was pruned, or started from a snapshot, holds the events from its floor up:
  // the first page starts there, and says so
  let floor = null;
  let page;
  try {
    page = await api.events({ ...query, after, limit: LIMIT });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 410 || after) throw e;
    floor = e.problem.floor;
    page = await api.events({ ...query, from_height: floor, limit: LIMIT });
  }
  const tbody = h("tbody", {}, page.events.map(row));
  const more = new URLSearchParams({ ...Object.fromEntries(Object.entries(filter).filter(([, v]) => v)) });
  if (!page.exhausted) more.set("after", page.next_after);
  view.append(
    h("h1", {}, t("events_title")),
    h("p", {}, t("events_help")),
    ...(floor !== null ? [h("p", { id: "events-floor", class: "note" }, t("events_from_floor", { floor }))] : []),
    form,
    section(
      t("events"),
      h(
        "div",
        { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("events") },
        h(
          "table",
          { id: "events" },
          h("caption", {}, t("events_page_caption", { head: page.head })),
          h("thead", {}, h("tr", {}, [t("block"), t("tx"), t("contract"), t("event_name"), t("key"), t("payload")].map((c) => h("th", { scope: "col" }, c)))),
          tbody,
        ),
      ),
      page.events.length ? null : h("p", { id: "events-empty" }, t("no_matching_events")),
      h(
        "nav",
        { class: "pager", "aria-label": t("pager") },
        after ? link(`#/events?${new URLSearchParams(Object.entries(filter).filter(([, v]) => v))}`, t("first_page")) : null,
        page.exhausted ? null : link(`#/events?${more}`, t("next_page")),
      ),
    ),
  );
  if (!page.exhausted) return null;
  // the last page: new events of this filter appear as their blocks commit; the scan goes on
  // from where the page's stopped (``next_after`` is the last cursor examined)
  let start = page.next_after ? { after: page.next_after } : { from_height: page.head + 1 };
  let busy = false;
  return subscribe(async (event) => {
    if (event.type !== "block" || busy) return;
    busy = true;
    try {
      for (;;) {
        const next = await api.events({ ...query, ...start, limit: LIMIT });
        for (const e of next.events) {
          if (!tbody.querySelector(`tr[data-cursor="${e.cursor}"]`)) tbody.append(row(e));
        }
        if (next.events.length) document.getElementById("events-empty")?.remove();
        if (next.next_after) start = { after: next.next_after };
        if (next.exhausted) break;
      }
    } catch {
      /* the next block tries again */
    } finally {
      busy = false;
    }
  });
}
