// Blocks: the latest blocks (or those before ?before=H), newest first; on the first page new
// blocks are prepended as they are committed. A node that was pruned, or started from a
// snapshot, holds the blocks from its floor up: where the list reaches the floor, a row per
// range says where the blocks below are (an archive file, or not held by this node).

import { api, ApiError } from "../api.js";
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

/** A row for heights below the floor: where they are (an archive file) or that they are gone. */
function goneRow(range, floor) {
  const text = range.archive
    ? t("blocks_archived", { first: range.first, last: range.last, archive: range.archive })
    : t("blocks_not_held", { first: range.first, last: range.last, floor });
  return h(
    "tr",
    { class: "gone", dataset: { gone: range.archive ? "archived" : "not_held", first: String(range.first) } },
    h("td", { colspan: "6" }, text),
  );
}

/** The page of blocks below ``top + 1``. Wholly below the floor it is a 410: then the ranges
 * below the floor (the page at the floor lists them all) under ``top + 1``, and no blocks. */
async function page(top) {
  if (top < 1) return { blocks: [], not_held: [], floor: 1 };
  try {
    return await api.blockList(top + 1, PAGE);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 410) throw e;
    const floor = e.problem.floor;
    const atFloor = await api.blockList(floor + 1, 1);
    return { blocks: [], not_held: atFloor.not_held.filter((r) => r.first <= top), floor };
  }
}

export async function render(view, { params }) {
  const head = (await api.health()).height;
  const before = Number(params.get("before")) || head + 1;
  const top = Math.min(before - 1, head);
  const answer = await page(top);
  const list = answer.blocks;
  const gone = answer.not_held ?? [];
  const tbody = h("tbody", {}, [...list.map(row), ...gone.map((r) => goneRow(r, answer.floor))]);
  const caption = t("blocks_caption", { from: list.at(-1)?.header.height ?? gone.at(-1)?.first ?? 0, to: top });
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
      answer.next_before ? h("a", { href: `#/blocks?before=${answer.next_before}` }, t("older")) : null,
    ),
  );
  if (top !== head) return null;
  return subscribe((event) => {
    if (event.type !== "block" || tbody.querySelector(`tr[data-height="${event.block.header.height}"]`)) return;
    tbody.prepend(row(event.block));
    const rows = tbody.querySelectorAll("tr:not(.gone)");
    if (rows.length > PAGE) rows[rows.length - 1].remove();
  });
}
