// Governance: the proposals of the consortium (config, members, validators, policies) and of
// the contract lifecycle, newest first — who proposed, which organisations approved (at which
// block, in which tx), the status, and for an applied one what it changed.

import { api } from "../api.js";
import { h, section, table } from "../dom.js";
import { blockLink, json, txLink } from "../format.js";
import { t } from "../i18n.js";

const LIMIT = 50;
const SCOPES = ["", "consortium", "lifecycle"];
const STATUSES = ["", "open", "applied", "failed", "expired"];

function select(id, name, value, options, label) {
  return h(
    "select",
    { id, name },
    options.map((o) => h("option", { value: o, selected: o === value }, o ? label(o) : t("any"))),
  );
}

function changes(p) {
  if (!p.changes || !p.changes.length) return "—";
  return h(
    "ul",
    { class: "changes" },
    p.changes.map((c) => h("li", {}, h("code", {}, c.path), ": ", JSON.stringify(c.before), " → ", JSON.stringify(c.after))),
  );
}

function approvals(p) {
  return h(
    "ul",
    { class: "approvals" },
    p.approvals.map((a) => h("li", {}, h("strong", {}, a.org), " · ", a.height !== null ? blockLink(a.height) : t("below_floor"), a.tx_id ? [" · ", txLink(a.tx_id, 6)] : null)),
  );
}

export async function render(view, { params }) {
  const scope = params.get("scope") ?? "";
  const status = params.get("status") ?? "";
  const id = params.get("id");
  const form = h(
    "form",
    { class: "inline-form", id: "governance-form" },
    h("label", { for: "gov-scope" }, t("scope")),
    select("gov-scope", "scope", scope, SCOPES, (s) => t(`scope_${s}`)),
    h("label", { for: "gov-status" }, t("status")),
    select("gov-status", "status", status, STATUSES, (s) => t(`proposal_${s}`)),
    h("button", { type: "submit" }, t("show")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = new URLSearchParams();
    if (form.elements.scope.value) q.set("scope", form.elements.scope.value);
    if (form.elements.status.value) q.set("status", form.elements.status.value);
    location.hash = `#/governance?${q}`;
  });
  view.append(h("h1", {}, t("governance_title")), h("p", {}, t("governance_help")), form);
  let proposals = (await api.proposals({ scope, status, limit: LIMIT })).proposals;
  if (id) proposals = proposals.filter((p) => String(p.id) === id);
  view.append(
    section(
      t("proposals"),
      proposals.length
        ? table(
            t("proposals_caption", { n: proposals.length }),
            ["#", t("scope"), t("proposal_kind"), t("args"), t("proposer"), t("status"), t("approvals"), t("decided_at"), t("what_changed")],
            proposals.map((p) => [
              String(p.id),
              t(`scope_${p.scope}`),
              h("code", {}, p.kind),
              json(p.args),
              p.proposer.org,
              h("span", { class: `badge ${p.status === "applied" ? "ok" : p.status === "open" ? "warn" : "bad"}` }, t(`proposal_${p.status}`)),
              approvals(p),
              p.decided_height === null ? "—" : blockLink(p.decided_height),
              changes(p),
            ]),
            { id: "proposals" },
          )
        : h("p", { id: "proposals" }, t("no_proposals")),
    ),
  );
}
