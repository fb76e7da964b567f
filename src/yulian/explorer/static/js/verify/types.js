// The chain's signed structures, decoded from their canonical bytes exactly as yulian.types
// decodes them (same limits, same field checks), and the genesis read from its JSON file.
// Only what the offline verifier needs: envelopes and txs, receipts, headers, commit
// certificates, consortium configs and the genesis.

import { pyRepr } from "./jsonvalue.js";
import { base64ToBytes, hexToBytes } from "./bytes.js";
import { DecodeError, decode, encode, limits } from "./msgpack.js";

export { DecodeError };

const MAX_TX_BYTES = 64 * 1024;
const TX_LIMITS = limits({ maxBytes: MAX_TX_BYTES, maxDepth: 8, maxItems: 1024, maxStr: MAX_TX_BYTES, maxBin: MAX_TX_BYTES });
const RECEIPT_LIMITS = limits({ maxBytes: 1 << 20, maxDepth: 12, maxItems: 4096 });
const BLOCK_LIMITS = limits({ maxBytes: 32 * 1024 * 1024, maxDepth: 4, maxItems: 10_000, maxStr: 1024, maxBin: MAX_TX_BYTES * 2 });
const COMMIT_LIMITS = limits({ maxBytes: 256 * 1024, maxDepth: 4, maxItems: 256 });
const CONFIG_LIMITS = limits({ maxBytes: 4 << 20, maxItems: 4096, maxBin: 64 * 1024 });
const STATUSES = ["ok", "reverted", "out_of_steps", "fault", "unknown_method", "bad_args", "unknown_contract"];
const INT63_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

export const TX_DOMAIN = "yulian/tx/v1";
export const VOTE_DOMAIN = "yulian/vote/v1";
export const PRECOMMIT = 2;

// --- field readers (yulian.types.fields) ----------------------------------------------------

function array(value, name, length) {
  if (!Array.isArray(value)) throw new DecodeError(`${name}: expected an array`);
  if (value.length !== length) throw new DecodeError(`${name}: expected ${length} fields, got ${value.length}`);
  return value;
}

function list(value, name, maxItems) {
  if (!Array.isArray(value)) throw new DecodeError(`${name}: expected an array`);
  if (value.length > maxItems) throw new DecodeError(`${name}: ${value.length} items exceed the limit of ${maxItems}`);
  return value;
}

function int(value, name, low = 0n, high = INT63_MAX) {
  if (typeof value !== "number" && typeof value !== "bigint") throw new DecodeError(`${name}: expected an integer`);
  const big = BigInt(value);
  if (big < BigInt(low) || big > BigInt(high)) throw new DecodeError(`${name}: ${value} outside [${low}, ${high}]`);
  return value;
}

const utf8 = new TextEncoder();

function str(value, name, maxLen, allowEmpty = false) {
  if (typeof value !== "string") throw new DecodeError(`${name}: expected a string`);
  if (utf8.encode(value).length > maxLen) throw new DecodeError(`${name}: longer than ${maxLen} bytes`);
  if (!value && !allowEmpty) throw new DecodeError(`${name}: must not be empty`);
  return value;
}

function bin(value, name, maxLen) {
  if (!(value instanceof Uint8Array)) throw new DecodeError(`${name}: expected bytes`);
  if (value.length > maxLen) throw new DecodeError(`${name}: longer than ${maxLen} bytes`);
  return value;
}

function version(value, name, expected) {
  int(value, name);
  if (Number(value) !== expected) throw new DecodeError(`${name}: unsupported version ${value}, expected ${expected}`);
}

// --- txs, receipts, headers, commits ---------------------------------------------------------

/** The envelope ``[body, signature]`` and the tx its body encodes. */
export function decodeSignedTx(data) {
  if (data.length > MAX_TX_BYTES) throw new DecodeError(`encoding of ${data.length} bytes exceeds the limit of ${MAX_TX_BYTES}`);
  const envelope = array(decode(data, TX_LIMITS), "envelope", 2);
  const body = bin(envelope[0], "envelope.body", MAX_TX_BYTES);
  const signature = bin(envelope[1], "envelope.signature", 128);
  const f = array(decode(body, TX_LIMITS), "tx", 8);
  version(f[0], "tx.version", 1);
  const tx = {
    chainId: str(f[1], "tx.chain_id", 64),
    contract: str(f[2], "tx.contract", 64),
    method: str(f[3], "tx.method", 64),
    args: list(f[4], "tx.args", 32),
    signer: bin(f[5], "tx.signer", 4096),
    nonce: int(f[6], "tx.nonce", 0n, UINT64_MAX),
    expiresAt: int(f[7], "tx.expires_at"),
  };
  return { body, signature, tx };
}

export function txSignBytes(chainId, body) {
  return encode([TX_DOMAIN, chainId, body]);
}

export function decodeReceipt(data) {
  const f = array(decode(data, RECEIPT_LIMITS), "receipt", 6);
  const status = str(f[1], "receipt.status", 32);
  if (!STATUSES.includes(status)) throw new DecodeError(`receipt.status: unknown status ${pyRepr(status)}`);
  return {
    txId: bin(f[0], "receipt.tx_id", 64),
    status,
    message: str(f[2], "receipt.message", 1024, true),
    steps: int(f[3], "receipt.steps"),
    value: f[4],
    events: list(f[5], "receipt.events", 64).map((e) => {
      const ev = array(e, "event", 3);
      return { contract: str(ev[0], "event.contract", 64), name: str(ev[1], "event.name", 64), payload: ev[2] };
    }),
  };
}

export function decodeHeader(data) {
  const f = array(decode(data, BLOCK_LIMITS), "header", 12);
  version(f[0], "header.version", 1);
  return {
    chainId: str(f[1], "header.chain_id", 64),
    height: Number(int(f[2], "header.height", 1n)),
    timeMs: Number(int(f[3], "header.time_ms")),
    prevHash: bin(f[4], "header.prev_hash", 64),
    txCount: Number(int(f[5], "header.tx_count", 0n, 10_000n)),
    txRoot: bin(f[6], "header.tx_root", 64),
    resultRoot: bin(f[7], "header.result_root", 64),
    stateRoot: bin(f[8], "header.state_root", 64),
    validatorsHash: bin(f[9], "header.validators_hash", 64),
    proposer: str(f[10], "header.proposer", 128),
    configHash: bin(f[11], "header.config_hash", 64),
  };
}

export function decodeCommit(data) {
  const f = array(decode(data, COMMIT_LIMITS), "commit", 5);
  version(f[0], "commit.version", 1);
  const signatures = list(f[4], "commit.signatures", 256).map((item) => {
    const pair = array(item, "commit.signature", 2);
    return {
      validator: str(pair[0], "commit.signature.validator", 128),
      signature: bin(pair[1], "commit.signature.signature", 128),
    };
  });
  return {
    height: Number(int(f[1], "commit.height", 1n)),
    round: Number(int(f[2], "commit.round", 0n, 2n ** 31n)),
    blockHash: bin(f[3], "commit.block_hash", 64),
    signatures,
  };
}

export function voteSignBytes(chainId, voteType, height, round, blockHash) {
  return encode([VOTE_DOMAIN, chainId, voteType, height, round, blockHash]);
}

// --- the consortium config -------------------------------------------------------------------

export function validatorValue(v) {
  return [v.name, v.org, v.publicKey, v.power, v.address];
}

function validatorFrom(value) {
  const f = array(value, "validator", 5);
  return {
    name: str(f[0], "validator.name", 64),
    org: str(f[1], "validator.org", 64),
    publicKey: bin(f[2], "validator.public_key", 1024),
    power: Number(int(f[3], "validator.power", 1n)),
    address: str(f[4], "validator.address", 256, true),
  };
}

/** ``paramCount``: how many chain parameters this chain has (its genesis says). */
export function decodeConfig(data, paramCount) {
  const f = array(decode(data, CONFIG_LIMITS), "config", 6);
  version(f[0], "config.version", 1);
  const organisations = list(f[1], "orgs", 4096).map((o) => {
    const org = array(o, "organisation", 2);
    return { name: str(org[0], "organisation.name", 64), caCert: bin(org[1], "organisation.ca_cert", 64 * 1024) };
  });
  const schedule = list(f[2], "schedule", 64).map((e) => {
    const entry = array(e, "schedule entry", 2);
    return [Number(int(entry[0], "schedule.from_height", 1n)), list(entry[1], "schedule.validators", 4096).map(validatorFrom)];
  });
  if (schedule.length === 0 || schedule.some(([, vs]) => vs.length === 0)) {
    throw new DecodeError("config: the validator schedule cannot be empty");
  }
  const policies = list(f[3], "policies", 64).map((p) => {
    const pair = array(p, "policy", 2);
    return [str(pair[0], "policy.scope", 64), str(pair[1], "policy", 64)];
  });
  const params = list(f[4], "params", 64);
  params.forEach((v) => int(v, "param", 0n));
  if (params.length !== paramCount || !params.every((v) => typeof v === "number")) {
    throw new DecodeError(`config: chain params are ${paramCount} integers`);
  }
  const revocations = list(f[5], "revocations", 1 << 16).map((r) => {
    const rev = array(r, "revocation", 4);
    return {
      certId: bin(rev[0], "revocation.cert_id", 64),
      org: str(rev[1], "revocation.org", 64),
      publicKey: bin(rev[2], "revocation.public_key", 1024),
      height: Number(int(rev[3], "revocation.height", 0n)),
    };
  });
  return { organisations, schedule, policies, params, revocations };
}

export function validatorsAt(config, height) {
  let current = config.schedule[0][1];
  for (const [fromHeight, validators] of config.schedule) {
    if (fromHeight > height) break;
    current = validators;
  }
  return current;
}

export function revokedKeys(config) {
  return config.revocations.map((r) => [r.org, r.publicKey]);
}

export function revokedIds(config) {
  return config.revocations.map((r) => r.certId);
}

export function encodeConfig(config) {
  return encode([
    1,
    config.organisations.map((o) => [o.name, o.caCert]),
    config.schedule.map(([h, vs]) => [h, vs.map(validatorValue)]),
    config.policies,
    config.params,
    config.revocations.map((r) => [r.certId, r.org, r.publicKey, r.height]),
  ]);
}

export function configFromGenesis(genesis) {
  return {
    organisations: genesis.organisations,
    schedule: [[1, genesis.validators]],
    policies: genesis.policies,
    params: genesis.params.map(([, v]) => v),
    revocations: [],
  };
}

// --- the genesis -----------------------------------------------------------------------------

export class GenesisError extends Error {}

// ChainParams' fields in declaration order, with their defaults (yulian.types.genesis)
const PARAM_DEFAULTS = [
  ["block_interval_ms", 200],
  ["max_block_txs", 2000],
  ["max_tx_bytes", 64 * 1024],
  ["step_limit", 1_000_000],
  ["max_tx_ttl_blocks", 10_000],
  ["timeout_propose_ms", 3000],
  ["timeout_prevote_ms", 1000],
  ["timeout_precommit_ms", 1000],
  ["timeout_delta_ms", 500],
  ["proposal_ttl_blocks", 100_000],
];

function integer(value, what) {
  if (typeof value === "string" && /^\s*[-+]?\d+\s*$/.test(value)) return Number(value);
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new GenesisError(`malformed genesis: ${what} is not an integer`);
  return value;
}

/** The chain parameters as (name, value) pairs in the order the encoding uses: the genesis
 * file lists them all in that order (``Genesis.to_json``); a file written by hand that leaves
 * some out gets the defaults, in declaration order. */
function readParams(doc) {
  const names = Object.keys(doc);
  const known = PARAM_DEFAULTS.map(([n]) => n);
  if (known.every((n) => names.includes(n))) return names.map((n) => [n, integer(doc[n], n)]);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) throw new GenesisError(`malformed genesis: unknown chain parameter ${unknown[0]}`);
  return PARAM_DEFAULTS.map(([n, d]) => [n, n in doc ? integer(doc[n], n) : d]);
}

/** Read a genesis file (its JSON text) as Genesis.from_json does, with its consistency checks. */
export function parseGenesis(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new GenesisError(`malformed genesis: ${e.message}`);
  }
  if (doc === null || typeof doc !== "object") throw new GenesisError("malformed genesis: not an object");
  if (doc.version !== 1) throw new GenesisError(`unsupported genesis version ${pyRepr(doc.version)}`);
  try {
    const genesis = {
      chainId: String(doc.chain_id),
      suite: String(doc.suite),
      timeMs: integer(doc.time_ms, "time_ms"),
      organisations: doc.organisations.map((o) => ({ name: o.name, caCert: base64ToBytes(o.ca_cert) })),
      validators: doc.validators.map((v) => ({
        name: v.name,
        org: v.org,
        publicKey: hexToBytes(v.public_key),
        power: integer(v.power, "power"),
        address: String(v.address ?? ""),
      })),
      policies: Object.entries(doc.policies ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      params: readParams(doc.params ?? {}),
      contracts: (doc.contracts ?? []).map((c) => [c.name, c.source]),
    };
    checkGenesis(genesis);
    return genesis;
  } catch (e) {
    if (e instanceof GenesisError) throw e;
    throw new GenesisError(`malformed genesis: ${e.message}`);
  }
}

function checkGenesis(g) {
  if (!g.chainId || utf8.encode(g.chainId).length > 64) throw new GenesisError("chain_id must be 1..64 bytes");
  const orgNames = g.organisations.map((o) => o.name);
  if (orgNames.length === 0) throw new GenesisError("a consortium needs at least one organisation");
  if (new Set(orgNames).size !== orgNames.length) throw new GenesisError("organisation names must be unique");
  if (g.validators.length === 0) throw new GenesisError("at least one validator is required");
  if (new Set(g.validators.map((v) => v.name)).size !== g.validators.length) throw new GenesisError("validator names must be unique");
  for (const v of g.validators) {
    if (!orgNames.includes(v.org)) throw new GenesisError(`validator ${v.name} names unknown organisation ${v.org}`);
    if (v.power <= 0) throw new GenesisError(`validator ${v.name} needs a positive power`);
  }
}

export function encodeGenesis(g) {
  return encode([
    1,
    g.chainId,
    g.suite,
    g.timeMs,
    g.organisations.map((o) => [o.name, o.caCert]),
    g.validators.map(validatorValue),
    g.policies,
    g.params.map(([, v]) => v),
    g.contracts,
  ]);
}
