// The state browser: a key's current value and its version history (each version with the
// block that wrote it, deletions included).

import { api } from "../api.js";
import { h, section, table } from "../dom.js";
import { blockLink, json } from "../format.js";
import { t } from "../i18n.js";

const HISTORY_LIMIT = 100;

export async function render(view, { params }) {
  const contract = params.get("contract") ?? "";
  const key = params.get("key") ?? "";
  const form = h(
    "form",
    { class: "inline-form", id: "state-form" },
    h("label", { for: "state-contract" }, t("contract")),
    h("input", { id: "state-contract", name: "contract", value: contract, required: true, autocomplete: "off" }),
    h("label", { for: "state-key" }, t("key")),
    h("input", { id: "state-key", name: "key", value: key, required: true, autocomplete: "off", class: "wide" }),
    h("button", { type: "submit" }, t("show")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const c = form.elements.contract.value.trim();
    const k = form.elements.key.value.trim();
    location.hash = `#/state?contract=${encodeURIComponent(c)}&key=${encodeURIComponent(k)}`;
  });
  view.append(h("h1", {}, t("state_title")), h("p", {}, t("state_help")), form);
  if (!contract || !key) return;
  const [current, history] = await Promise.all([
    api.state(contract, key).catch((e) => (e.code === "unknown_key" ? null : Promise.reject(e))),
    api.history(contract, key, HISTORY_LIMIT),
  ]);
  view.append(
    section(
      t("current_value"),
      current ? [h("p", {}, t("as_of_height", { height: current.height })), h("div", { id: "state-value" }, json(current.value))]
        : h("p", { id: "state-value" }, t("no_value")),
    ),
    section(
      t("version_history"),
      history.versions.length
        ? table(
            t("history_caption", { n: history.versions.length }),
            [t("height"), t("value")],
            history.versions.map((v) => [blockLink(v.height), v.deleted ? h("em", {}, t("deleted")) : json(v.value)]),
            { id: "state-history" },
          )
        : h("p", {}, t("no_history")),
    ),
  );
}
