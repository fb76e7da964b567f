// The chain's crypto suite in the browser, as yulian.crypto.suite defines it: a hash and a
// signature check, chosen by the genesis. standard: SHA-256 and Ed25519 through WebCrypto
// (the browser's own implementation) where the page is a secure context, else through the
// vendored @noble libraries; gm: SM3 and SM2 (SM3, distinguishing ID 1234567812345678,
// DER signatures) through the vendored sm-crypto-v2. verify never throws: it answers false.

import { ed25519, sha256, sm2, sm3 } from "../../vendor/crypto.js";
import { bytesToHex, hexToBytes } from "./bytes.js";

const SM2_N = BigInt("0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");
const SM2_PUBLIC_KEY_SIZE = 65;
const SM2_MAX_SIGNATURE_SIZE = 72;
export const DISTINGUISHING_ID = "1234567812345678";

function subtle() {
  return globalThis.isSecureContext && globalThis.crypto?.subtle ? globalThis.crypto.subtle : null;
}

/** Which implementation the standard suite uses here (shown on the verify page). */
export function standardEngine() {
  return subtle() ? "WebCrypto" : "noble";
}

const webEd25519Works = (async () => {
  const s = subtle();
  if (!s) return false;
  try {
    // RFC 8032 test 1: an empty message under a known key
    const key = await s.importKey(
      "raw",
      hexToBytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    const sig = hexToBytes(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
    return await s.verify({ name: "Ed25519" }, key, sig, new Uint8Array(0));
  } catch {
    return false;
  }
})();

async function sha256Digest(data) {
  const s = subtle();
  if (s) return new Uint8Array(await s.digest("SHA-256", data));
  return sha256(data);
}

async function ed25519Verify(publicKey, data, signature) {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  if (await webEd25519Works) {
    try {
      const key = await subtle().importKey("raw", publicKey, { name: "Ed25519" }, false, [
        "verify",
      ]);
      return await subtle().verify({ name: "Ed25519" }, key, signature, data);
    } catch {
      return false;
    }
  }
  try {
    return ed25519.verify(signature, data, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** ``(r, s)`` of a minimal-DER ``SEQUENCE { INTEGER r, INTEGER s }`` with ``0 < r, s < n`` and
 * nothing after it, else null (yulian.crypto.gm._signature_r_s). */
export function sm2SignatureRS(sig) {
  const n = sig.length;
  if (n < 8 || n > SM2_MAX_SIGNATURE_SIZE || sig[0] !== 0x30 || sig[1] !== n - 2) return null;
  let pos = 2;
  const values = [];
  for (let i = 0; i < 2; i++) {
    if (pos + 2 > n || sig[pos] !== 0x02) return null;
    const size = sig[pos + 1];
    const start = pos + 2;
    const end = start + size;
    if (size < 1 || size > 33 || end > n) return null;
    if (sig[start] & 0x80) return null;
    if (sig[start] === 0 && (size === 1 || !(sig[start + 1] & 0x80))) return null;
    const value = BigInt("0x" + bytesToHex(sig.subarray(start, end)));
    if (!(value > 0n && value < SM2_N)) return null;
    values.push(value);
    pos = end;
  }
  return pos === n ? values : null;
}

function sm2Verify(publicKey, data, signature) {
  if (publicKey.length !== SM2_PUBLIC_KEY_SIZE || publicKey[0] !== 4) return false;
  const rs = sm2SignatureRS(signature);
  if (rs === null) return false;
  const rsHex = rs.map((v) => v.toString(16).padStart(64, "0")).join("");
  try {
    return sm2.doVerifySignature(data, rsHex, bytesToHex(publicKey), {
      hash: true,
      der: false,
      userId: DISTINGUISHING_ID,
    });
  } catch {
    return false; // not a curve point, or the sum is the point at infinity
  }
}

/** True iff ``publicKey`` is ``04 || x || y`` for a point on the SM2 curve. */
export function sm2PublicKeyValid(publicKey) {
  if (publicKey.length !== SM2_PUBLIC_KEY_SIZE || publicKey[0] !== 4) return false;
  try {
    return sm2.verifyPublicKey(bytesToHex(publicKey)); // fromBytes checks the curve equation
  } catch {
    return false;
  }
}

const SUITES = {
  standard: {
    name: "standard",
    hashName: "SHA-256",
    signatureName: "Ed25519",
    hash: sha256Digest,
    verify: ed25519Verify,
  },
  gm: {
    name: "gm",
    hashName: "SM3",
    signatureName: "SM2",
    hash: async (data) => hexToBytes(sm3(data)),
    verify: async (publicKey, data, signature) => sm2Verify(publicKey, data, signature),
  },
};

export class SuiteError extends Error {}

export function getSuite(name) {
  const suite = SUITES[name];
  if (!suite) throw new SuiteError(`unknown crypto suite ${JSON.stringify(name)}`);
  return suite;
}
