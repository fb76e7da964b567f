// The verify page: a receipt document, or an evidence certificate and its file, checked here
// in the browser against a genesis, with no trust in the node — the same checks as `yulian
// verify` and `yulian evidence verify`. The genesis is uploaded (the one the consortium gave
// you) or, for convenience, fetched from this node; its hash is shown either way. Once this
// page is loaded nothing here needs the network.

import { api } from "../api.js";
import { clear, fields, h, section } from "../dom.js";
import { hash, json, time } from "../format.js";
import { t } from "../i18n.js";
import { parseJson } from "../verify/jsonvalue.js";
import { standardEngine } from "../verify/suite.js";
import { GenesisError, parseGenesis } from "../verify/types.js";
import { CERTIFICATE_KIND, VerificationError, genesisHash, verifyEvidence, verifyReceipt } from "../verify/verify.js";

const STASH_KEY = "yulian.explorer.verify.document";

/** Hand a document to the verify page (the tx page's "verify here"). */
export function stashDocument(text, name) {
  try {
    sessionStorage.setItem(STASH_KEY, JSON.stringify({ text, name }));
  } catch {
    /* the user can still choose the downloaded file */
  }
}

function takeStash() {
  try {
    const raw = sessionStorage.getItem(STASH_KEY);
    sessionStorage.removeItem(STASH_KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

async function readFile(input) {
  const file = input.files?.[0];
  return file ? { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) } : null;
}

function engineOf(suite) {
  return suite === "gm" ? "SM2/SM3 · sm-crypto-v2" : `Ed25519/SHA-256 · ${standardEngine()}`;
}

const CHECK_TEXT = {
  governance_change: (s) => t("check_governance_change", { height: s.height }),
  governance_path: (s) => t("check_governance_path", { n: s.changes }),
  validator_set: (s) => t("check_validator_set", { n: s.count }),
  signer_certificate: (s) => t("check_signer_certificate", { name: s.name, org: s.org }),
  tx_signature: () => t("check_tx_signature"),
  receipt_of_tx: () => t("check_receipt_of_tx"),
  tx_inclusion: (s) => t("check_tx_inclusion", { index: s.index, size: s.size }),
  receipt_inclusion: () => t("check_receipt_inclusion"),
  commit_certificate: (s) => t("check_commit_certificate", { n: s.signers }),
  summary: () => t("check_summary"),
  file_digest: (s) => t("check_file_digest", { digest: s.digest }),
};

export async function render(view) {
  let genesis = null;
  let documentText = null;

  const genesisInfo = h("div", { id: "genesis-info", role: "status" }, t("genesis_none"));
  const result = h("div", { id: "verify-result", role: "status", "aria-live": "polite" });
  const evidenceRow = h(
    "div",
    { class: "field", id: "evidence-row", hidden: true },
    h("label", { for: "evidence-file" }, t("evidence_file_label")),
    h("input", { id: "evidence-file", type: "file" }),
  );
  const documentInfo = h("p", { id: "document-info" }, t("document_none"));

  async function useGenesis(text, origin) {
    try {
      genesis = parseGenesis(text);
    } catch (e) {
      genesis = null;
      clear(genesisInfo).append(h("p", { class: "error" }, `${t("genesis_invalid")}: ${e.message}`));
      return;
    }
    clear(genesisInfo).append(
      fields([
        [t("genesis_origin"), origin],
        [t("chain_id"), genesis.chainId],
        [t("suite"), `${genesis.suite} (${engineOf(genesis.suite)})`],
        [t("genesis_hash"), h("span", { id: "genesis-hash" }, hash(await genesisHash(genesis)))],
      ]),
      h("p", { class: "hint" }, t("genesis_compare_hint")),
    );
  }

  function useDocument(text, name) {
    documentText = text;
    let kind = "unknown";
    try {
      kind = parseJson(text)?.kind === CERTIFICATE_KIND ? "certificate" : "receipt";
    } catch {
      kind = "unknown";
    }
    evidenceRow.hidden = kind !== "certificate";
    clear(documentInfo).append(t(`document_${kind}`, { name }));
  }

  const genesisFile = h("input", { id: "genesis-file", type: "file", accept: ".json,application/json" });
  genesisFile.addEventListener("change", async () => {
    const file = await readFile(genesisFile);
    if (file) await useGenesis(new TextDecoder().decode(file.bytes), t("genesis_uploaded", { name: file.name }));
  });
  const nodeGenesisButton = h("button", { type: "button", id: "use-node-genesis" }, t("genesis_from_node"));
  nodeGenesisButton.addEventListener("click", async () => {
    try {
      await useGenesis(await api.genesisText(), t("genesis_node"));
    } catch (e) {
      clear(genesisInfo).append(h("p", { class: "error" }, `${t("genesis_unavailable")}: ${e.message}`));
    }
  });
  const documentFile = h("input", { id: "document-file", type: "file", accept: ".json,application/json" });
  documentFile.addEventListener("change", async () => {
    const file = await readFile(documentFile);
    if (file) useDocument(new TextDecoder().decode(file.bytes), file.name);
  });

  async function run() {
    clear(result);
    if (!genesis) return showFailure(t("need_genesis"));
    if (documentText === null) return showFailure(t("need_document"));
    let doc;
    try {
      doc = parseJson(documentText);
    } catch (e) {
      return showFailure(`${t("document_not_json")}: ${e.message}`);
    }
    try {
      let verified;
      if (doc?.kind === CERTIFICATE_KIND) {
        const file = await readFile(evidenceRow.querySelector("input"));
        if (!file) return showFailure(t("need_evidence_file"));
        verified = await verifyEvidence(file.bytes, doc, genesis);
      } else {
        verified = await verifyReceipt(doc, genesis);
      }
      showSuccess(verified);
    } catch (e) {
      if (e instanceof VerificationError || e instanceof GenesisError) return showFailure(e.message);
      return showFailure(`${t("verify_error")}: ${e.message}`);
    }
  }

  function showFailure(reason) {
    result.dataset.verdict = "fail";
    clear(result).append(
      h("p", { class: "verdict bad" }, t("verdict_fail")),
      h("p", { id: "verify-reason" }, reason),
    );
  }

  function showSuccess(v) {
    const s = v.summary;
    result.dataset.verdict = "ok";
    clear(result).append(
      h("p", { class: "verdict ok" }, t("verdict_ok")),
      h("p", {}, t("verdict_ok_text", {
        name: s.signer.name,
        org: s.signer.org,
        call: `${s.contract}.${s.method}`,
        height: s.height,
        time: time(s.block_time_ms),
      })),
      h("h3", {}, t("checks_passed")),
      h("ol", { id: "verify-checks" }, v.steps.map((step) => h("li", {}, CHECK_TEXT[step.check](step)))),
      h("h3", {}, t("proven_summary")),
      json(s),
    );
  }

  const verifyButton = h("button", { type: "button", id: "verify-button", class: "primary" }, t("verify_button"));
  verifyButton.addEventListener("click", run);

  view.append(
    h("h1", {}, t("verify_title")),
    h("p", {}, t("verify_intro")),
    section(
      t("step_genesis"),
      h("div", { class: "field" }, h("label", { for: "genesis-file" }, t("genesis_file_label")), genesisFile),
      h("p", {}, t("or"), " ", nodeGenesisButton),
      genesisInfo,
    ),
    section(
      t("step_document"),
      h("div", { class: "field" }, h("label", { for: "document-file" }, t("document_file_label")), documentFile),
      documentInfo,
      evidenceRow,
    ),
    section(t("step_verify"), verifyButton, result),
  );
  const stashed = takeStash();
  if (stashed) useDocument(stashed.text, stashed.name);
}
