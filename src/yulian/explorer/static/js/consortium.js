// The consortium config at any height, from what the node serves today: the genesis file
// (the config until the first governance change) and the version history of the state key
// consortium/config (each version with the height of the block that wrote it). The config
// in force after block H is the newest version written at or below H.

import { api } from "./api.js";
import { base64ToBytes, hexToBytes } from "./verify/bytes.js";
import { parseCertificate } from "./verify/x509.js";
import { parseJson } from "./verify/jsonvalue.js";

const MAX_VERSIONS = 1000;
let genesisPromise = null;

/** The node's genesis file, parsed as JSON (display only; the verify page checks its own). */
export function nodeGenesis() {
  genesisPromise ??= api.genesisText()
    .then(parseJson)
    .catch((e) => {
      genesisPromise = null; // ask again next time
      throw e;
    });
  return genesisPromise;
}

function bytesOf(value) {
  return hexToBytes(value.$bytes);
}

function readCa(der) {
  try {
    return parseCertificate(der);
  } catch {
    return null;
  }
}

function validatorView(v) {
  const [name, org, key, power, address] = v;
  return { name, org, public_key: key.$bytes, power: Number(power), address };
}

function fromGenesis(g) {
  return {
    organisations: g.organisations.map((o) => ({ name: o.name, der: base64ToBytes(o.ca_cert) })),
    schedule: [{ from_height: 1, validators: g.validators }],
    policies: Object.entries(g.policies ?? {}),
    params: Object.entries(g.params),
    revocations: [],
  };
}

function fromState(value, paramNames) {
  const [, orgs, schedule, policies, params, revocations] = value;
  return {
    organisations: orgs.map(([name, ca]) => ({ name, der: bytesOf(ca) })),
    schedule: schedule.map(([from, vs]) => ({ from_height: Number(from), validators: vs.map(validatorView) })),
    policies,
    params: params.map((v, i) => [paramNames[i] ?? `#${i}`, v]),
    revocations: revocations.map(([id, org, , height]) => ({ cert_id: id.$bytes, org, height: Number(height) })),
  };
}

/** The versions of the config: [{height, value}] newest first ([] before any change). */
export async function configVersions() {
  try {
    return (await api.history("consortium", "config", MAX_VERSIONS)).versions.filter((v) => !v.deleted);
  } catch (e) {
    if (e.code === "unknown_key") return [];
    throw e;
  }
}

/** The config in force after block ``height``, with the heights at which it ever changed. */
export async function consortiumAt(height) {
  const [genesis, versions] = await Promise.all([nodeGenesis(), configVersions()]);
  const paramNames = Object.keys(genesis.params);
  const version = versions.find((v) => v.height <= height);
  const config = version ? fromState(version.value, paramNames) : fromGenesis(genesis);
  config.organisations = config.organisations.map((o) => ({ ...o, ca: readCa(o.der) }));
  config.source_height = version ? version.height : 0;
  config.changes = versions.map((v) => v.height).sort((a, b) => a - b);
  config.validatorsAt = (h) => {
    let current = config.schedule[0].validators;
    for (const entry of config.schedule) if (entry.from_height <= h) current = entry.validators;
    return current;
  };
  return config;
}
