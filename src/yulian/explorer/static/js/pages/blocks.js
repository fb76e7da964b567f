// Blocks: the latest blocks (or those before ?before=H), newest first; on the first page new
// blocks are prepended as they are committed.

import { api } from "../api.js";
import { h } from "../dom.js";
import { blockLink, short, time } from "../format.js";
import { t } from "../i18n.js";
import { subscribe } from "../live.js";

const PAGE = 20;

function row(b) {
  const hd = b.header;
  return h(
    "tr",
    { dataset: { height: String(hd.height) } },
    h("td", {}, blockLink(hd.height)),
    h("td", {}, h("code", { class: "hash", title: hd.hash }, short(hd.hash, 8))),
    h("td", {}, time(hd.time_ms)),
    h("td", { class: "num" }, String(hd.tx_count)),
    h("td", {}, hd.proposer),
    // a summary (/v1/blocks) names its signers; a block view (a live block) has its commit
    h("td", { class: "num" }, String(b.signers?.length ?? b.commit?.signatures.length ?? 0)),
  );
}

export async function render(view, { params }) {
  const head = (await api.health()).height;
  const before = Number(params.get("before")) || head + 1;
  const top = Math.min(before - 1, head);
  const list = top >= 1 ? (await api.blockList(top + 1, PAGE)).blocks : [];
  const tbody = h("tbody", {}, list.map(row));
  const caption = t("blocks_caption", { from: list.at(-1)?.header.height ?? 0, to: top });
  view.append(
    h("h1", {}, t("blocks_title")),
    h(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
      h(
        "table",
        { id: "blocks" },
        h("caption", {}, caption),
        h(
          "thead",
          {},
          h("tr", {}, [t("height"), t("block_hash"), t("time"), t("txs"), t("proposer"), t("signers")].map((c) => h("th", { scope: "col" }, c))),
        ),
        tbody,
      ),
    ),
    h(
      "nav",
      { class: "pager", "aria-label": t("pager") },
      top < head ? h("a", { href: "#/blocks" }, t("newest")) : null,
      list.length && list.at(-1).header.height > 1
        ? h("a", { href: `#/blocks?before=${list.at(-1).header.height}` }, t("older"))
        : null,
    ),
  );
  if (top !== head) return null;
  return subscribe((event) => {
    if (event.type !== "block" || tbody.querySelector(`tr[data-height="${event.block.header.height}"]`)) return;
    tbody.prepend(row(event.block));
    while (tbody.children.length > PAGE) tbody.lastElementChild.remove();
  });
}
