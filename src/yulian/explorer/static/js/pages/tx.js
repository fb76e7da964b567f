// A transaction: its sender and organisation, the call, the receipt and its events, the
// block it is in, and its proof — downloadable as the receipt document `yulian receipt
// export` writes (byte for byte), or checked at once on the verify page.

import { api } from "../api.js";
import { fields, h, section, table } from "../dom.js";
import { blockLink, hash, json, link, time, to } from "../format.js";
import { t } from "../i18n.js";
import { stringifyJson } from "../verify/jsonvalue.js";
import { CERTIFICATE_KIND } from "../verify/verify.js";
import { stashDocument } from "./verify.js";

/** The receipt document of a committed tx, as the CLI exports it. */
export function receiptDocument(tx) {
  return { proof: tx.proof, summary: tx.summary };
}

/** Its text, exactly as `yulian receipt export` writes it (json.dumps, indent 2, newline). */
export function receiptDocumentText(tx) {
  return stringifyJson(receiptDocument(tx), 2) + "\n";
}

/** For a successful evidence registration, the certificate `yulian evidence register` writes
 * (apps.evidence.make_certificate): its file name is the one the registration recorded. */
export function evidenceCertificateText(tx) {
  const s = tx.summary;
  if (s.contract !== "evidence" || s.method !== "register" || s.status !== "ok") return null;
  const [digest, title, metadata] = s.args;
  const recorded = metadata && typeof metadata.file_name === "string" ? metadata.file_name : title;
  const certificate = { kind: CERTIFICATE_KIND, file_name: recorded, digest, receipt: receiptDocument(tx) };
  return stringifyJson(certificate, 2) + "\n";
}

function path(elements) {
  return elements.length ? h("ol", {}, elements.map((x) => h("li", {}, hash(x)))) : t("empty_path");
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The tx's state writes (the node re-executes its block to tell them apart). */
async function writesOf(id) {
  let writes;
  try {
    writes = (await api.txWrites(id)).writes;
  } catch (e) {
    return h("p", { id: "tx-writes", class: "error" }, t("writes_unavailable", { reason: e.message }));
  }
  if (!writes.length) return h("p", { id: "tx-writes" }, t("no_writes"));
  return table(
    t("writes_caption", { n: writes.length }),
    [t("contract"), t("key"), t("value")],
    writes.map((w) => [
      w.contract,
      link(to.state(w.contract, w.key), w.key),
      w.deleted ? h("em", {}, t("deleted")) : json(w.value),
    ]),
    { id: "tx-writes" },
  );
}

export async function render(view, { match }) {
  const id = match[1].toLowerCase();
  const tx = await api.tx(id);
  view.append(h("h1", {}, t("tx_title")), h("p", {}, hash(id)));
  if (tx.status !== "committed") {
    view.append(h("p", { class: "badge warn", id: "tx-status" }, t("tx_pending")));
    return;
  }
  const s = tx.summary;
  const r = tx.receipt;
  const p = tx.proof;
  view.append(
    section(
      t("tx_overview"),
      fields([
        [t("status"), h("span", { id: "tx-status", class: `badge ${r.status === "ok" ? "ok" : "bad"}` }, r.status)],
        [t("block"), blockLink(tx.height)],
        [t("index_in_block"), String(tx.index)],
        [t("time"), time(s.block_time_ms)],
        [t("sender"), h("span", { id: "tx-sender" }, `${s.signer.name} (${s.signer.role})`)],
        [t("organisation"), h("span", { id: "tx-org" }, s.signer.org)],
        [t("signer_id"), hash(s.signer.id)],
        [t("contract"), h("span", { id: "tx-contract" }, s.contract)],
        [t("method"), h("span", { id: "tx-method" }, s.method)],
        [t("args"), json(s.args)],
      ]),
    ),
    section(
      t("receipt"),
      fields([
        [t("status"), r.status],
        [t("message"), r.message || "—"],
        [t("steps"), String(r.steps)],
        [t("return_value"), json(r.value)],
      ]),
    ),
    section(
      t("events"),
      r.events.length
        ? table(t("events_caption", { n: r.events.length }), ["#", t("contract"), t("event_name"), t("payload")],
            r.events.map((e, i) => [String(i), e.contract, e.name, json(e.payload)]), { id: "tx-events" })
        : h("p", {}, t("no_events")),
    ),
    section(t("state_writes"), await writesOf(id)),
    section(
      t("proof"),
      h("p", {}, t("proof_explained")),
      fields([
        [t("tree_size"), String(p.tree_size)],
        [t("tx_path"), path(p.tx_path)],
        [t("receipt_path"), path(p.receipt_path)],
        [t("governance_changes"), String(p.transitions.length)],
        [t("commit_signers"), s.commit_signers.join(", ")],
      ]),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", id: "download-receipt", onclick: () => download(`${id}.receipt.json`, receiptDocumentText(tx)) }, t("download_receipt")),
        evidenceCertificateText(tx) === null
          ? null
          : h("button", {
              type: "button",
              id: "download-certificate",
              onclick: () => download(`${id}.evidence.json`, evidenceCertificateText(tx)),
            }, t("download_certificate")),
        h("button", { type: "button", id: "verify-receipt", onclick: () => {
          stashDocument(receiptDocumentText(tx), `${id}.receipt.json`);
          location.hash = "#/verify";
        } }, t("verify_here")),
      ),
    ),
  );
}
