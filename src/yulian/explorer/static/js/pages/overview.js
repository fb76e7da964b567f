// Overview: the head, live block-time and txs-per-block charts from recent blocks, the
// validators (power, organisation, last signed height, missed blocks in the window), the
// organisations with their root CAs and expiry warnings, and the mempool.

import { api, blocks as fetchBlocks } from "../api.js";
import { drawSeries } from "../charts.js";
import { clear, fields, h, section, table } from "../dom.js";
import { blockLink, short, time } from "../format.js";
import { t } from "../i18n.js";
import { subscribe } from "../live.js";
import { consortiumAt } from "../consortium.js";

const WINDOW = 30; // recent blocks behind the charts and the signing record
const EXPIRY_WARNING_MS = 30 * 24 * 3600 * 1000;

function intervals(recent) {
  const points = [];
  for (let i = 1; i < recent.length; i++) {
    const a = recent[i - 1].header;
    const b = recent[i].header;
    if (b.height === a.height + 1) points.push([b.height, b.time_ms - a.time_ms]);
  }
  return points;
}

function validatorRows(validators, recent) {
  return validators.map((v) => {
    let last = null;
    let signed = 0;
    for (const b of recent) {
      if (b.commit?.signatures.some((s) => s.validator === v.name)) {
        signed += 1;
        last = b.header.height;
      }
    }
    return [
      v.name,
      v.org,
      String(v.power),
      last === null ? t("not_in_window", { n: recent.length }) : blockLink(last),
      t("signed_of", { signed, total: recent.length }),
    ];
  });
}

function caRows(orgs, nowMs) {
  return orgs.map((o) => {
    const ca = o.ca;
    if (!ca) return [o.name, t("ca_unreadable"), "", h("span", { class: "badge bad" }, t("ca_unreadable"))];
    const left = ca.notAfterMs - nowMs;
    let badge;
    if (left < 0) badge = h("span", { class: "badge bad" }, t("ca_expired"));
    else if (left < EXPIRY_WARNING_MS) {
      badge = h("span", { class: "badge warn" }, t("ca_expires_soon", { days: Math.ceil(left / 86400000) }));
    } else badge = h("span", { class: "badge ok" }, t("ca_valid"));
    return [o.name, ca.name, time(ca.notAfterMs), badge];
  });
}

export async function render(view) {
  const health = await api.health();
  const head = health.height;
  const [recent, consortium] = await Promise.all([
    fetchBlocks(head - WINDOW + 1, head),
    consortiumAt(head).catch(async () => ({
      // no genesis file served: the organisations by name, their CAs unknown
      organisations: (await api.consortium()).organisations.map((name) => ({ name, ca: null })),
    })),
  ]);
  const validators = (await api.validators()).validators;

  const headFields = h("div");
  const showHead = (hl) => {
    clear(headFields).append(
      fields([
        [t("height"), h("strong", { id: "head-height" }, blockLink(hl.height))],
        [t("last_block_time"), time(hl.last_block_time_ms)],
        [t("chain_id"), hl.chain_id],
        [t("suite"), hl.suite],
        [t("mempool"), h("span", { id: "mempool-size" }, String(hl.mempool))],
        [t("this_node"), `${hl.node} (${hl.org})`],
        [t("peers"), String(hl.peers.length)],
        [t("version"), hl.version],
      ]),
    );
  };
  showHead(health);

  const blockTimeChart = h("figure", { class: "chart" });
  const txChart = h("figure", { class: "chart" });
  const validatorTable = h("div");
  const drawAll = () => {
    drawSeries(blockTimeChart, t("chart_block_time"), t("ms"), intervals(recent));
    drawSeries(txChart, t("chart_txs_per_block"), t("txs"), recent.map((b) => [b.header.height, b.header.tx_count]));
    clear(validatorTable).append(
      table(
        t("validators_caption", { n: recent.length }),
        [t("validator"), t("organisation"), t("power"), t("last_signed"), t("signed_in_window")],
        validatorRows(validators, recent),
        { id: "validators" },
      ),
    );
  };

  view.append(
    h("h1", {}, t("overview_title")),
    section(t("chain_head"), headFields),
    h("div", { class: "charts" }, blockTimeChart, txChart),
    section(t("validators"), validatorTable),
    section(
      t("organisations"),
      table(
        t("organisations_caption"),
        [t("organisation"), t("root_ca"), t("ca_not_after"), t("ca_status")],
        caRows(consortium.organisations, Date.now()),
        { id: "organisations" },
      ),
    ),
  );
  drawAll();

  const unsubscribe = subscribe((event) => {
    if (event.type === "head") showHead(event.health);
    if (event.type === "block" && !recent.some((b) => b.header.height === event.block.header.height)) {
      recent.push(event.block);
      while (recent.length > WINDOW) recent.shift();
      drawAll();
    }
  });
  const onResize = () => drawAll();
  window.addEventListener("resize", onResize);
  return () => {
    unsubscribe();
    window.removeEventListener("resize", onResize);
  };
}
