// The consortium config in force after any block: organisations and their root CAs, the
// validator set of the next block and the schedule, policies, chain parameters, revocations,
// and the heights at which governance changed it.

import { api } from "../api.js";
import { consortiumAt } from "../consortium.js";
import { fields, h, section, table } from "../dom.js";
import { blockLink, hash, time } from "../format.js";
import { t } from "../i18n.js";

export async function render(view, { params }) {
  const head = (await api.health()).height;
  const requested = params.has("height") ? Number(params.get("height")) : head;
  const height = Number.isInteger(requested) ? Math.max(0, Math.min(requested, head)) : head;
  const config = await consortiumAt(height);
  const form = h(
    "form",
    { class: "inline-form", id: "config-form" },
    h("label", { for: "config-height" }, t("after_block")),
    h("input", { id: "config-height", name: "height", type: "number", min: "0", max: String(head), value: String(height) }),
    h("button", { type: "submit" }, t("show")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/config?height=${form.elements.height.value}`;
  });
  const next = config.validatorsAt(height + 1);
  view.append(
    h("h1", {}, t("config_title", { height })),
    form,
    h("p", { id: "config-source" }, config.source_height
      ? t("config_from_block", { height: config.source_height })
      : t("config_from_genesis")),
    section(
      t("governance_changes"),
      config.changes.length
        ? h("ul", { id: "config-changes" }, config.changes.map((c) => h("li", {}, h("a", { href: `#/config?height=${c}` }, t("changed_at", { height: c })), " · ", blockLink(c))))
        : h("p", {}, t("no_changes")),
    ),
    section(
      t("organisations"),
      table(t("organisations_caption"), [t("organisation"), t("root_ca"), t("ca_not_after"), t("key_algorithm")],
        config.organisations.map((o) => [o.name, o.ca?.name ?? t("ca_unreadable"), o.ca ? time(o.ca.notAfterMs) : "", o.ca?.publicKeyAlgorithm === "1.3.101.112" ? "Ed25519" : "SM2"]),
        { id: "config-orgs" }),
    ),
    section(
      t("validators_next", { height: height + 1 }),
      table(t("validators"), [t("validator"), t("organisation"), t("power"), t("address"), t("public_key")],
        next.map((v) => [v.name, v.org, String(v.power), v.address || "—", hash(v.public_key)]), { id: "config-validators" }),
      config.schedule.length > 1
        ? h("p", {}, t("schedule", { list: config.schedule.map((e) => `${e.from_height}: ${e.validators.map((v) => v.name).join(", ")}`).join(" · ") }))
        : null,
    ),
    section(t("policies"), fields(config.policies.map(([scope, policy]) => [scope, policy]))),
    section(t("params"), fields(config.params.map(([name, value]) => [name, String(value)]))),
    section(
      t("revocations"),
      config.revocations.length
        ? table(t("revocations"), [t("organisation"), t("cert_id"), t("height")],
            config.revocations.map((r) => [r.org, hash(r.cert_id), blockLink(r.height)]))
        : h("p", {}, t("no_revocations")),
    ),
  );
}
