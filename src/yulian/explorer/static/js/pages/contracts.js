// Contracts: every callable contract with its active version, and one contract's page with
// the history of its versions (the lifecycle proposal that activated each, approvals by
// organisation) and the source of the active or a chosen version.

import { api } from "../api.js";
import { fields, h, section, table } from "../dom.js";
import { blockLink, hash, link, short } from "../format.js";
import { t } from "../i18n.js";

const kindText = (kind) => t(`contract_kind_${kind}`);

export async function renderList(view) {
  const { contracts } = await api.contracts();
  view.append(
    h("h1", {}, t("contracts_title")),
    h("p", {}, t("contracts_help")),
    table(
      t("contracts_caption", { n: contracts.length }),
      [t("contract"), t("contract_kind"), t("version"), t("code_hash"), t("since_height")],
      contracts.map((c) => [
        link(`#/contract/${encodeURIComponent(c.name)}`, c.name),
        kindText(c.kind),
        c.version ?? "—",
        c.code_hash ? h("code", { class: "hash", title: c.code_hash }, short(c.code_hash)) : "—",
        c.height === null ? "—" : c.height === 0 ? t("genesis") : blockLink(c.height),
      ]),
      { id: "contracts" },
    ),
  );
}

function approvals(proposal) {
  if (!proposal) return "—";
  return h(
    "span",
    {},
    link(`#/governance?scope=${proposal.scope}&id=${proposal.id}`, `#${proposal.id}`),
    " · ",
    proposal.approvals.map((a) => a.org).join(", "),
  );
}

export async function render(view, { match, params }) {
  const name = decodeURIComponent(match[1]);
  const detail = await api.contract(name);
  const chosen = params.get("version") || undefined;
  view.append(
    h("h1", {}, t("contract_title", { name })),
    section(
      t("active_version"),
      fields([
        [t("contract_kind"), kindText(detail.kind)],
        [t("version"), h("span", { id: "contract-version" }, detail.version ?? "—")],
        [t("code_hash"), detail.code_hash ? hash(detail.code_hash) : "—"],
        [t("since_height"), detail.height === null ? "—" : detail.height === 0 ? t("genesis") : blockLink(detail.height)],
      ]),
    ),
    section(
      t("version_history"),
      detail.versions.length
        ? table(
            t("versions_caption", { n: detail.versions.length }),
            [t("version"), t("code_hash"), t("since_height"), t("proposal_and_approvals"), t("code")],
            detail.versions.map((v) => [
              v.version ?? "—",
              v.code_hash ? h("code", { class: "hash", title: v.code_hash }, short(v.code_hash)) : "—",
              v.height === 0 ? t("genesis") : blockLink(v.height),
              approvals(v.proposal),
              v.version ? link(`#/contract/${encodeURIComponent(name)}?version=${encodeURIComponent(v.version)}`, t("show_code")) : "—",
            ]),
            { id: "contract-versions" },
          )
        : h("p", {}, t("system_contract_no_code")),
    ),
  );
  if (detail.kind === "system") {
    view.append(section(t("code"), h("p", { id: "contract-code" }, t("system_contract_no_code"))));
    return;
  }
  const code = await api.contractCode(name, chosen);
  view.append(
    section(
      t("code"),
      h("p", {}, t("code_of_version", { version: code.version ?? t("genesis") })),
      h("pre", { class: "json", id: "contract-code", tabindex: "0" }, code.source),
    ),
  );
}
