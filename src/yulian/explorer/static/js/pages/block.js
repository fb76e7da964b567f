// A block: its header, its txs (with contract, method and status), and the commit
// certificate's signers with their organisations and voting power.

import { api } from "../api.js";
import { fields, h, section, table } from "../dom.js";
import { hash, time, txLink } from "../format.js";
import { t } from "../i18n.js";

const MAX_TX_DETAILS = 1000; // one request (/v1/blocks/{h}/txs); larger blocks list the rest by id

export async function render(view, { match }) {
  const height = Number(match[1]);
  const block = await api.block(height);
  const hd = block.header;
  const [validators, txs] = await Promise.all([
    api.validators(height).then((r) => r.validators).catch(() => []),
    block.tx_ids.length
      ? api.blockTxs(height, 0, MAX_TX_DETAILS).then((r) => r.txs).catch(() => [])
      : [],
  ]);
  const byIndex = new Map(txs.map((x) => [x.index, x]));
  const byName = new Map(validators.map((v) => [v.name, v]));
  const txRows = block.tx_ids.map((id, i) => {
    const s = byIndex.get(i);
    return [
      String(i),
      txLink(id),
      s ? `${s.contract}.${s.method}` : "",
      s ? `${s.signer.name}@${s.signer.org}` : "",
      s ? h("span", { class: `badge ${s.status === "ok" ? "ok" : "bad"}`, title: s.message || undefined }, s.status) : "",
    ];
  });
  const commit = block.commit;
  const signerRows = (commit?.signatures ?? []).map((s) => [
    s.validator,
    byName.get(s.validator)?.org ?? "",
    String(byName.get(s.validator)?.power ?? ""),
    h("code", { class: "hash", title: s.signature }, `${s.signature.slice(0, 16)}…`),
  ]);
  view.append(
    h("h1", {}, t("block_title", { height })),
    h(
      "nav",
      { class: "pager", "aria-label": t("pager") },
      height > 1 ? h("a", { href: `#/block/${height - 1}`, rel: "prev" }, t("previous_block")) : null,
      h("a", { href: `#/block/${height + 1}`, rel: "next" }, t("next_block")),
    ),
    section(
      t("header"),
      fields([
        [t("block_hash"), hash(hd.hash)],
        [t("height"), String(hd.height)],
        [t("time"), time(hd.time_ms)],
        [t("prev_hash"), height > 1 ? h("a", { href: `#/block/${height - 1}` }, hash(hd.prev_hash)) : hash(hd.prev_hash)],
        [t("proposer"), hd.proposer],
        [t("txs"), String(hd.tx_count)],
        [t("tx_root"), hash(hd.tx_root)],
        [t("result_root"), hash(hd.result_root)],
        [t("state_root"), hash(hd.state_root)],
        [t("validators_hash"), hash(hd.validators_hash)],
        [t("config_hash"), h("a", { href: `#/config?height=${height}` }, hash(hd.config_hash))],
      ]),
    ),
    section(
      t("transactions"),
      block.tx_ids.length
        ? table(t("block_txs_caption", { n: block.tx_ids.length }), ["#", t("tx_id"), t("call"), t("sender"), t("status")], txRows, { id: "block-txs" })
        : h("p", {}, t("no_txs")),
    ),
    section(
      t("commit_certificate"),
      commit
        ? [
            fields([
              [t("round"), String(commit.round)],
              [t("signers"), t("signers_of", { n: commit.signatures.length, total: validators.length })],
            ]),
            table(t("commit_signers_caption"), [t("validator"), t("organisation"), t("power"), t("signature")], signerRows, { id: "commit-signers" }),
          ]
        : h("p", {}, t("no_commit")),
    ),
  );

}
