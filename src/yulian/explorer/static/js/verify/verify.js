// Offline verification of a receipt document or an evidence certificate against a genesis,
// in the browser: exactly the checks of yulian.sdk.verify (verify_bundle, trusted_config,
// verify_receipt) and yulian.apps.evidence.verify_certificate, in the same order, failing
// with the same reasons. Nothing here asks the node anything: the inputs are the document,
// the genesis and (for a certificate) the file's bytes.

import { base64ToBytes, bytesToHex, equalBytes, hexToBytes } from "./bytes.js";
import { pyEqual, pyRepr, toJson } from "./jsonvalue.js";
import { Membership, MembershipError } from "./membership.js";
import { verifyInclusion } from "./merkle.js";
import { getSuite } from "./suite.js";
import {
  DecodeError,
  PRECOMMIT,
  configFromGenesis,
  decodeCommit,
  decodeConfig,
  decodeHeader,
  decodeReceipt,
  decodeSignedTx,
  encodeConfig,
  encodeGenesis,
  revokedIds,
  revokedKeys,
  txSignBytes,
  validatorValue,
  validatorsAt,
  voteSignBytes,
} from "./types.js";
import { encode } from "./msgpack.js";

export class VerificationError extends Error {}

const SIGNER_ROLES = ["client", "admin"];
const BUNDLE_VERSION = 2;
export const CERTIFICATE_KIND = "yulian-evidence-certificate/v1";

function fail(message) {
  throw new VerificationError(message);
}

/** TxProofBundle.from_json: the bundle's bytes, or a VerificationError naming the fault. */
export function readBundle(doc) {
  try {
    if (doc.version !== BUNDLE_VERSION) fail(`unsupported proof version ${pyRepr(doc.version)}`);
    const { index, tree_size: treeSize } = doc;
    const isInt = (v) => (typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint" || typeof v === "boolean";
    if (!isInt(index) || !isInt(treeSize)) fail("index and tree_size must be integers");
    const hexList = (items) => {
      if (!Array.isArray(items)) throw new TypeError("expected a list");
      return items.map(hexToBytes);
    };
    if (doc.chain_id === undefined) throw new TypeError("'chain_id'");
    return {
      chainId: String(doc.chain_id),
      envelope: base64ToBytes(doc.envelope),
      receipt: base64ToBytes(doc.receipt),
      index: Number(index),
      treeSize: Number(treeSize),
      txPath: hexList(doc.tx_path),
      receiptPath: hexList(doc.receipt_path),
      header: base64ToBytes(doc.header),
      commit: base64ToBytes(doc.commit),
      prevHeader: base64ToBytes(doc.prev_header),
      transitions: doc.transitions.map((t) => ({
        header: base64ToBytes(t.header),
        commit: base64ToBytes(t.commit),
        config: base64ToBytes(t.config),
      })),
    };
  } catch (e) {
    if (e instanceof VerificationError) throw e;
    throw new VerificationError(`malformed proof: ${e.name}: ${e.message}`);
  }
}

/** Raise unless ``commit`` proves ``blockHash`` at ``height`` (consensus.votes.verify_commit). */
export async function verifyCommit(suite, chainId, validators, revoked, commit, height, blockHash) {
  if (commit.height !== height) fail(`certificate is for height ${commit.height}, expected ${height}`);
  if (!equalBytes(commit.blockHash, blockHash)) fail("certificate is for another block hash");
  const message = voteSignBytes(chainId, PRECOMMIT, commit.height, commit.round, commit.blockHash);
  const isRevoked = (v) => revoked.some(([org, key]) => org === v.org && equalBytes(key, v.publicKey));
  const total = validators.reduce((n, v) => n + v.power, 0);
  const quorum = Math.floor((total * 2) / 3) + 1;
  const seen = new Set();
  let power = 0;
  for (const sig of commit.signatures) {
    if (seen.has(sig.validator)) fail(`validator ${sig.validator} signed twice`);
    seen.add(sig.validator);
    const validator = validators.find((v) => v.name === sig.validator);
    if (validator === undefined || isRevoked(validator)) {
      fail(`signer ${sig.validator} ${validator ? "is revoked" : "is not a validator"} at height ${height}`);
    }
    if (!(await suite.verify(validator.publicKey, message, sig.signature))) {
      fail(`bad signature from validator ${sig.validator}`);
    }
    power += validator.power;
  }
  if (power < quorum) fail(`signers hold ${power} of ${total} voting power; ${quorum} needed`);
}

/** The consortium config in force at ``header``'s height, proven from the genesis. */
export async function trustedConfig(bundle, genesis, header, suite, steps) {
  const paramCount = genesis.params.length;
  let config = configFromGenesis(genesis);
  let configHash = await suite.hash(encodeConfig(config));
  let last = 0;
  for (const t of bundle.transitions) {
    let th;
    let cert;
    let next;
    try {
      th = decodeHeader(t.header);
      cert = decodeCommit(t.commit);
      next = decodeConfig(t.config, paramCount);
    } catch (e) {
      if (e instanceof DecodeError) fail(`malformed governance path: ${e.message}`);
      throw e;
    }
    if (th.chainId !== genesis.chainId || !(last < th.height && th.height < header.height)) {
      fail("governance path: blocks out of order or for another chain");
    }
    try {
      await verifyCommit(suite, genesis.chainId, validatorsAt(config, th.height), revokedKeys(config), cert, th.height, await suite.hash(t.header));
    } catch (e) {
      if (e instanceof VerificationError) fail(`governance path, block ${th.height}: ${e.message}`);
      throw e;
    }
    if (!equalBytes(th.configHash, await suite.hash(t.config))) {
      fail(`governance path, block ${th.height}: config does not match`);
    }
    config = next;
    configHash = th.configHash;
    last = th.height;
    steps.push({ check: "governance_change", height: th.height });
  }
  if (header.height === 1) {
    if (!equalBytes(header.prevHash, await suite.hash(encodeGenesis(genesis))) || bundle.transitions.length) {
      fail("block 1 does not follow this genesis");
    }
    return config;
  }
  let prev;
  try {
    prev = decodeHeader(bundle.prevHeader);
  } catch (e) {
    if (e instanceof DecodeError) fail(`malformed previous header: ${e.message}`);
    throw e;
  }
  if (!equalBytes(await suite.hash(bundle.prevHeader), header.prevHash) || prev.height !== header.height - 1) {
    fail("the previous header is not the parent of the tx's block");
  }
  if (!equalBytes(prev.configHash, configHash)) fail("the governance path is incomplete: a config change is missing");
  return config;
}

/** verify_bundle: what the bundle proves, with the list of checks passed (for display). */
export async function verifyBundle(bundle, genesis) {
  const suite = getSuite(genesis.suite);
  const steps = [];
  if (bundle.chainId !== genesis.chainId) {
    fail(`proof is for chain ${pyRepr(bundle.chainId)}, genesis is ${pyRepr(genesis.chainId)}`);
  }
  let signed;
  let receipt;
  let header;
  let commit;
  try {
    signed = decodeSignedTx(bundle.envelope);
    receipt = decodeReceipt(bundle.receipt);
    header = decodeHeader(bundle.header);
    commit = decodeCommit(bundle.commit);
  } catch (e) {
    if (e instanceof DecodeError) fail(`malformed bytes in proof: ${e.message}`);
    throw e;
  }
  const tx = signed.tx;
  if (tx.chainId !== genesis.chainId || header.chainId !== genesis.chainId) fail("tx or header is for another chain");
  const config = await trustedConfig(bundle, genesis, header, suite, steps);
  steps.push({ check: "governance_path", changes: bundle.transitions.length });
  const validators = validatorsAt(config, header.height);
  if (!equalBytes(header.validatorsHash, await suite.hash(encode(validators.map(validatorValue))))) {
    fail("header's validators_hash is not the validator set of its height");
  }
  steps.push({ check: "validator_set", count: validators.length });
  let signer;
  try {
    const membership = await Membership.create(suite, config.organisations, {
      revokedIds: revokedIds(config),
      revokedKeys: revokedKeys(config),
    });
    signer = await membership.validate(tx.signer, header.timeMs, SIGNER_ROLES);
  } catch (e) {
    if (e instanceof MembershipError) fail(`signer certificate rejected: ${e.message}`);
    throw e;
  }
  steps.push({ check: "signer_certificate", org: signer.org, name: signer.name });
  if (!(await suite.verify(signer.publicKey, txSignBytes(tx.chainId, signed.body), signed.signature))) {
    fail("tx signature does not verify");
  }
  steps.push({ check: "tx_signature" });
  const txId = await suite.hash(signed.body);
  if (!equalBytes(receipt.txId, txId)) fail("receipt belongs to another tx");
  steps.push({ check: "receipt_of_tx" });
  if (bundle.treeSize !== header.txCount) fail(`tree size ${bundle.treeSize} != header tx_count ${header.txCount}`);
  if (!(await verifyInclusion(bundle.envelope, bundle.index, bundle.treeSize, bundle.txPath, header.txRoot, suite.hash))) {
    fail("tx inclusion proof does not match the header's tx_root");
  }
  steps.push({ check: "tx_inclusion", index: bundle.index, size: bundle.treeSize });
  if (!(await verifyInclusion(bundle.receipt, bundle.index, bundle.treeSize, bundle.receiptPath, header.resultRoot, suite.hash))) {
    fail("receipt inclusion proof does not match the header's result_root");
  }
  steps.push({ check: "receipt_inclusion" });
  const blockHash = await suite.hash(bundle.header);
  try {
    await verifyCommit(suite, genesis.chainId, validators, revokedKeys(config), commit, header.height, blockHash);
  } catch (e) {
    if (e instanceof VerificationError) fail(`commit certificate: ${e.message}`);
    throw e;
  }
  steps.push({ check: "commit_certificate", signers: commit.signatures.length });
  const summary = {
    tx_id: bytesToHex(txId),
    chain_id: tx.chainId,
    contract: tx.contract,
    method: tx.method,
    args: toJson(tx.args),
    signer: { org: signer.org, role: signer.role, name: signer.name, id: signer.id },
    height: header.height,
    index: bundle.index,
    block_hash: bytesToHex(blockHash),
    block_time_ms: header.timeMs,
    status: receipt.status,
    message: receipt.message,
    value: toJson(receipt.value),
    events: receipt.events.map((e) => ({ contract: e.contract, name: e.name, payload: toJson(e.payload) })),
    state_root: bytesToHex(header.stateRoot),
    commit_signers: commit.signatures.map((s) => s.validator),
  };
  return { txId, signed, receipt, header, commit, summary, steps };
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** verify_receipt: an exported receipt document ``{"proof", "summary"}``. */
export async function verifyReceipt(doc, genesis) {
  if (!isObject(doc) || !("proof" in doc)) fail("not a Yulian receipt document (no 'proof')");
  if (!isObject(doc.proof)) fail("malformed proof: TypeError: the proof is not an object");
  const verified = await verifyBundle(readBundle(doc.proof), genesis);
  if ("summary" in doc) {
    const claimed = doc.summary;
    if (!isObject(claimed)) fail("summary is not an object");
    const keys = [...new Set([...Object.keys(claimed), ...Object.keys(verified.summary)])].sort();
    for (const key of keys) {
      const a = Object.hasOwn(claimed, key) ? claimed[key] : null;
      const b = Object.hasOwn(verified.summary, key) ? verified.summary[key] : null;
      if (!pyEqual(a, b)) fail(`summary field '${key}' does not match the proven bytes`);
    }
    verified.steps.push({ check: "summary" });
  }
  return verified;
}

/** The suite hash of a file's bytes, lowercase hex (apps.evidence.file_digest). */
export async function fileDigest(bytes, suiteName) {
  return bytesToHex(await getSuite(suiteName).hash(bytes));
}

/** verify_certificate: the file is the document the evidence certificate proves registered. */
export async function verifyEvidence(fileBytes, certificate, genesis) {
  if (!isObject(certificate) || certificate.kind !== CERTIFICATE_KIND) fail("not a Yulian evidence certificate");
  const verified = await verifyReceipt(certificate.receipt ?? null, genesis);
  const tx = verified.signed.tx;
  if (tx.contract !== "evidence" || tx.method !== "register") fail("the certificate's tx is not an evidence registration");
  if (verified.receipt.status !== "ok") {
    fail(`the registration failed on chain: ${verified.receipt.status} ${verified.receipt.message}`);
  }
  const digest = await fileDigest(fileBytes, genesis.suite);
  if (!tx.args.length || tx.args[0] !== digest) fail("the file's digest differs from the registered digest");
  if (certificate.digest !== digest) fail("the certificate's digest field differs from the file's digest");
  verified.steps.push({ check: "file_digest", digest });
  return verified;
}

/** The hash of a genesis, hex: what a user compares with the one the consortium published. */
export async function genesisHash(genesis) {
  return bytesToHex(await getSuite(genesis.suite).hash(encodeGenesis(genesis)));
}
