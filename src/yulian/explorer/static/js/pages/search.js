// Search: a height, a tx id, a block hash or a state key written contract/key.

import { api } from "../api.js";
import { h } from "../dom.js";
import { to } from "../format.js";
import { t } from "../i18n.js";

async function resolve(q) {
  if (/^\d+$/.test(q)) {
    await api.block(Number(q));
    return to.block(Number(q));
  }
  if (/^[0-9a-fA-F]{32,128}$/.test(q)) {
    const hex = q.toLowerCase();
    try {
      await api.tx(hex);
      return to.tx(hex);
    } catch (e) {
      if (e.code !== "unknown_tx" && e.code !== "malformed_id") throw e;
    }
    try {
      return to.block((await api.blockByHash(hex)).header.height);
    } catch (e) {
      if (e.code !== "unknown_block" && e.code !== "malformed_request") throw e;
    }
    return null;
  }
  const slash = q.indexOf("/");
  if (slash > 0 && slash < q.length - 1) {
    const contract = q.slice(0, slash);
    const key = q.slice(slash + 1);
    return to.state(contract, key);
  }
  return null;
}

export async function render(view, { params }) {
  const q = (params.get("q") ?? "").trim();
  view.append(h("h1", {}, t("search_title")));
  let target = null;
  try {
    target = q ? await resolve(q) : null;
  } catch {
    target = null;
  }
  if (target) {
    location.replace(target);
    return;
  }
  view.append(
    h("p", { role: "alert", id: "search-result" }, t("search_nothing", { q })),
    h("p", {}, t("search_help")),
  );
}
