// Signing in to the explorer (decision 0084): the user's key (PKCS#8 PEM) and certificate
// (PEM) are loaded into this page's memory only — never stored, never sent — and every API
// call the privacy page makes carries the signed-request headers of decision 0078, the bytes
// yulian.types.signed_request.request_sign_bytes defines:
//   encode(["yulian/api-request/v1", chain_id, METHOD, path?query, time_ms, nonce, H(body)])
// signed with Ed25519 (standard) or SM2 with SM3 and the default distinguishing ID (gm).
// Reloading the page signs out.

import { ed25519, sm2 } from "../vendor/crypto.js";
import { ApiError } from "./api.js";
import { base64ToBytes, bytesToBase64, bytesToHex, hexToBytes } from "./verify/bytes.js";
import { parseJson } from "./verify/jsonvalue.js";
import { encode } from "./verify/msgpack.js";
import { DISTINGUISHING_ID, getSuite } from "./verify/suite.js";
import { parseCertificate } from "./verify/x509.js";

export const REQUEST_DOMAIN = "yulian/api-request/v1";
const NONCE_BYTES = 16;

export class SignInError extends Error {}

/** The DER bytes of the first PEM block labelled ``label`` in ``text``. */
export function pemToDer(text, label) {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
  if (!match) throw new SignInError(`no ${label} PEM block`);
  return base64ToBytes(match[1].replace(/\s+/g, ""));
}

/** The 32-byte secret of a PKCS#8 Ed25519 or SM2 key: the only 32-byte OCTET STRING in it
 * (Ed25519: CurvePrivateKey; SM2: ECPrivateKey.privateKey; the public key is a BIT STRING). */
export function pkcs8Secret(der) {
  const found = [];
  function walk(bytes, start, end, depth) {
    let at = start;
    while (at < end) {
      const tag = bytes[at];
      let length = bytes[at + 1];
      let header = 2;
      if (length & 0x80) {
        const n = length & 0x7f;
        if (n === 0 || n > 3) throw new SignInError("not a DER private key");
        length = 0;
        for (let i = 0; i < n; i++) length = (length << 8) | bytes[at + 2 + i];
        header += n;
      }
      const body = at + header;
      if (body + length > end) throw new SignInError("not a DER private key");
      if (tag === 0x04 && length === 32) found.push(bytes.slice(body, body + length));
      if (depth < 6 && (tag === 0x30 || tag === 0x04 || tag === 0xa0)) {
        try {
          walk(bytes, body, body + length, depth + 1);
        } catch {
          // an OCTET STRING that holds no DER: a leaf
        }
      }
      at = body + length;
    }
  }
  walk(der, 0, der.length, 0);
  if (found.length !== 1) throw new SignInError("not a PKCS#8 Ed25519 or SM2 private key");
  return found[0];
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A signed-in identity: its certificate (parsed), suite, and a signer that never exports
 * the key. Throws SignInError when the key does not match the certificate. */
export function makeWallet(suiteName, keyPem, certPem) {
  const certDer = pemToDer(certPem, "CERTIFICATE");
  const cert = parseCertificate(certDer);
  const secret = pkcs8Secret(pemToDer(keyPem, "PRIVATE KEY"));
  let publicKey;
  let sign;
  if (suiteName === "standard") {
    publicKey = ed25519.getPublicKey(secret);
    sign = async (message) => ed25519.sign(message, secret);
  } else if (suiteName === "gm") {
    const secretHex = bytesToHex(secret);
    const publicHex = sm2.getPublicKeyFromPrivateKey(secretHex);
    publicKey = hexToBytes(publicHex);
    sign = async (message) =>
      hexToBytes(
        sm2.doSignature(message, secretHex, {
          hash: true,
          der: true,
          userId: DISTINGUISHING_ID,
          publicKey: publicHex,
        }),
      );
  } else {
    throw new SignInError(`unknown crypto suite ${JSON.stringify(suiteName)}`);
  }
  if (!sameBytes(publicKey, cert.publicKey)) {
    throw new SignInError("the key does not match the certificate");
  }
  return { cert, certDer, suite: getSuite(suiteName), sign };
}

/** The four headers that authenticate one request as ``wallet``. */
export async function authHeaders(wallet, chainId, method, target, body) {
  const timeMs = Date.now();
  const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
  const bodyHash = await wallet.suite.hash(body);
  const message = encode([REQUEST_DOMAIN, chainId, method.toUpperCase(), target, timeMs, nonce, bodyHash]);
  return {
    "yulian-certificate": bytesToBase64(wallet.certDer),
    "yulian-time": String(timeMs),
    "yulian-nonce": nonce,
    "yulian-signature": bytesToBase64(await wallet.sign(message)),
  };
}

/** POST /v1/query as ``wallet`` (or anonymously when it is null): the contract sees the
 * caller as ctx.sender. Problems become ApiError. */
export async function signedQuery(wallet, chainId, contract, method, args = []) {
  const body = new TextEncoder().encode(JSON.stringify({ contract, method, args }));
  const headers = { "content-type": "application/json" };
  if (wallet) Object.assign(headers, await authHeaders(wallet, chainId, "POST", "/v1/query", body));
  const response = await fetch("/v1/query", { method: "POST", headers, body, cache: "no-store" });
  const text = await response.text();
  let parsed;
  try {
    parsed = text ? parseJson(text) : null;
  } catch {
    parsed = { code: "http_error", detail: text.slice(0, 200) };
  }
  if (!response.ok) throw new ApiError(response.status, parsed ?? {});
  return parsed;
}
