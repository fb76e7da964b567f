// Reading Yulian's X.509 certificates in the browser, as yulian.crypto.x509 reads them: the
// subject names the member (O = organisation, OU = role, CN = name), the key is Ed25519 or
// an SM2 point, and an issuer's signature is checked over the exact TBSCertificate bytes
// received. The DER is parsed by the vendored asn1js; this module maps its tree onto the
// certificate fields and refuses what Python refuses (not v3, BER length forms, unknown
// critical extensions, duplicate extensions, several O/OU/CN, bad names, an unknown key).

import { pyRepr } from "./jsonvalue.js";
import { fromBER } from "../../vendor/asn1.js";
import { bytesToHex, equalBytes, hexToBytes } from "./bytes.js";
import { DecodeError, decode, limits } from "./msgpack.js";
import { sm2PublicKeyValid } from "./suite.js";

export const ROLES = ["client", "admin", "node"];
export const ED25519_OID = "1.3.101.112";
export const EC_PUBLIC_KEY_OID = "1.2.840.10045.2.1";
export const SM2_OID = "1.2.156.10197.1.301";
export const SM2_WITH_SM3_OID = "1.2.156.10197.1.501";
const SM2_WITH_SM3_ALGORITHM = hexToBytes("300a06082a811ccf55018375");
const SM2_SPKI_PREFIX = hexToBytes("3059301306072a8648ce3d020106082a811ccf5501822d034200");
const ATTRIBUTES_OID = "1.3.6.1.4.1.61839.1.1";
const MAX_CERTIFICATE_BYTES = 16 * 1024;
const MAX_NAME_CHARS = 64;
const MAX_ATTRIBUTES = 32;
const ATTRIBUTE_LIMITS = limits({ maxBytes: 64 * 1024, maxDepth: 1, maxItems: MAX_ATTRIBUTES });

const OID = { O: "2.5.4.10", OU: "2.5.4.11", CN: "2.5.4.3" };
const BASIC_CONSTRAINTS = "2.5.29.19";
const KEY_USAGE = "2.5.29.15";
const KNOWN_EXTENSIONS = new Set([
  BASIC_CONSTRAINTS,
  KEY_USAGE,
  "2.5.29.37", // extended key usage
  "2.5.29.17", // subject alternative name
  "2.5.29.14", // subject key identifier
  "2.5.29.35", // authority key identifier
  ATTRIBUTES_OID,
]);

export class CertificateError extends Error {}

const UNIVERSAL = 1;
const CONTEXT = 3;

function fail(message) {
  throw new CertificateError(message);
}

/** Refuse the BER forms DER forbids: indefinite lengths and non-minimal long lengths. */
function assertDer(node) {
  const len = node.lenBlock;
  if (len.isIndefiniteForm) fail("malformed certificate: indefinite length");
  if (len.longFormUsed) {
    const raw = node.valueBeforeDecodeView;
    const idLength = node.idBlock.valueBeforeDecodeView?.length ?? 1;
    if (len.length < 128 || raw[idLength + 1] === 0) fail("malformed certificate: non-minimal length");
  }
  const children = node.valueBlock?.value;
  if (node.idBlock.isConstructed && Array.isArray(children)) {
    const inner = children.reduce((n, c) => n + c.valueBeforeDecodeView.length, 0);
    if (inner !== len.length) fail("malformed certificate: elements do not fill their container");
    children.forEach(assertDer);
  }
}

function children(node, what) {
  if (!node?.idBlock?.isConstructed || !Array.isArray(node.valueBlock.value)) {
    fail(`malformed certificate: ${what} is not a constructed element`);
  }
  return node.valueBlock.value;
}

function isTag(node, tagClass, number) {
  return node?.idBlock?.tagClass === tagClass && node.idBlock.tagNumber === number;
}

function expectTag(node, tagClass, number, what) {
  if (!isTag(node, tagClass, number)) fail(`malformed certificate: ${what}`);
  return node;
}

function oidOf(node, what) {
  expectTag(node, UNIVERSAL, 6, `${what} is not an OID`);
  return node.valueBlock.toString();
}

function rawBytes(node) {
  return new Uint8Array(node.valueBeforeDecodeView);
}

function contentBytes(node) {
  return new Uint8Array(node.valueBlock.valueHexView);
}

function bitString(node, what) {
  expectTag(node, UNIVERSAL, 3, `${what} is not a BIT STRING`);
  return { unused: node.valueBlock.unusedBits, bytes: contentBytes(node) };
}

function timeMs(node, what) {
  if (!isTag(node, UNIVERSAL, 23) && !isTag(node, UNIVERSAL, 24)) fail(`${what} is not a time`);
  const ms = node.toDate().getTime();
  if (!Number.isFinite(ms)) fail(`${what} is not a valid time`);
  return ms;
}

const STRING_TAGS = new Set([12, 19, 20, 22, 26, 28, 30]); // UTF8, Printable, T61, IA5, Visible, Universal, BMP

function nameValues(nameNode, oid) {
  const values = [];
  for (const rdn of children(nameNode, "name")) {
    expectTag(rdn, UNIVERSAL, 17, "a relative distinguished name is not a SET");
    for (const atv of children(rdn, "relative distinguished name")) {
      expectTag(atv, UNIVERSAL, 16, "a name attribute is not a SEQUENCE");
      const parts = children(atv, "attribute");
      if (parts.length !== 2) fail("malformed certificate: a name attribute has two parts");
      const [type, value] = parts;
      if (oidOf(type, "attribute type") !== oid) continue;
      if (!STRING_TAGS.has(value?.idBlock?.tagNumber)) values.push(null);
      else values.push(value.valueBlock.value);
    }
  }
  return values;
}

export function checkName(what, value) {
  if (typeof value !== "string" || !value) fail(`${what} must be a non-empty string`);
  if ([...value].length > MAX_NAME_CHARS) fail(`${what} is longer than ${MAX_NAME_CHARS} characters`);
  // str.isprintable(): no control, format, surrogate, private or unassigned characters and no
  // separators but the ASCII space
  const printable = !/[\p{C}\p{Zl}\p{Zp}]|[^\P{Zs} ]/u.test(value);
  if (value !== value.trim() || !printable) {
    fail(`${what} ${pyRepr(value)} has surrounding space or control characters`);
  }
}

function single(nameNode, oid, what) {
  const values = nameValues(nameNode, oid);
  if (values.length !== 1) fail(`${what}: expected exactly one value, found ${values.length}`);
  if (typeof values[0] !== "string") fail(`${what}: expected a string`);
  checkName(what, values[0]);
  return values[0];
}

function decodeAttributes(data) {
  let value;
  try {
    value = decode(data, ATTRIBUTE_LIMITS);
  } catch (e) {
    if (e instanceof DecodeError) fail(`attributes extension: ${e.message}`);
    throw e;
  }
  if (!(value instanceof Map)) fail("attributes extension: expected a map");
  if (value.size > MAX_ATTRIBUTES) fail(`at most ${MAX_ATTRIBUTES} attributes`);
  const enc = new TextEncoder();
  const out = {};
  for (const [k, v] of value) {
    if (typeof v !== "string") fail("attribute keys and values must be strings");
    if (!k || enc.encode(k).length > 64) fail("attribute key must be 1..64 bytes");
    if (enc.encode(v).length > 1024) fail(`attribute ${pyRepr(k)} longer than 1024`);
    out[k] = v;
  }
  return out;
}

function readExtensions(node) {
  const found = new Map();
  for (const ext of children(node, "extensions")) {
    const parts = children(ext, "extension");
    const oid = oidOf(parts[0], "extension id");
    let critical = false;
    let valueNode = parts[1];
    if (isTag(parts[1], UNIVERSAL, 1)) {
      critical = parts[1].valueBlock.value;
      valueNode = parts[2];
    }
    expectTag(valueNode, UNIVERSAL, 4, "extension value is not an OCTET STRING");
    if (found.has(oid)) fail(`malformed certificate: duplicate extension ${oid}`);
    if (critical && !KNOWN_EXTENSIONS.has(oid)) fail(`unknown critical extension ${oid}`);
    found.set(oid, contentBytes(valueNode));
  }
  return found;
}

function parseInner(der) {
  const ber = fromBER(der);
  if (ber.offset === -1 || ber.result.error) fail(`malformed certificate: ${ber.result.error}`);
  if (ber.offset !== der.length) fail("malformed certificate: trailing bytes");
  const cert = ber.result;
  assertDer(cert);
  const [tbs, algorithm, signature, ...extra] = children(cert, "certificate");
  if (extra.length) fail("malformed certificate: trailing elements");
  expectTag(cert, UNIVERSAL, 16, "not a SEQUENCE");
  expectTag(tbs, UNIVERSAL, 16, "TBSCertificate is not a SEQUENCE");
  expectTag(algorithm, UNIVERSAL, 16, "signature algorithm is not a SEQUENCE");
  const fields = children(tbs, "TBSCertificate");
  if (!isTag(fields[0], CONTEXT, 0)) fail("only X.509 v3 certificates are accepted");
  const versionNode = children(fields[0], "version")[0];
  expectTag(versionNode, UNIVERSAL, 2, "version is not an INTEGER");
  if (versionNode.valueBlock.valueDec !== 2) fail("only X.509 v3 certificates are accepted");
  const [, serial, , issuer, validity, subject, spki, ...rest] = fields;
  expectTag(serial, UNIVERSAL, 2, "serial is not an INTEGER");
  for (const [node, what] of [[fields[2], "signature"], [issuer, "issuer"], [validity, "validity"], [subject, "subject"], [spki, "subject public key info"]]) {
    expectTag(node, UNIVERSAL, 16, `${what} is not a SEQUENCE`);
  }
  const [notBefore, notAfter] = children(validity, "validity");
  const notBeforeMs = timeMs(notBefore, "notBefore");
  const notAfterMs = timeMs(notAfter, "notAfter");
  const extNode = rest.find((n) => isTag(n, CONTEXT, 3));
  const extensions = extNode ? readExtensions(children(extNode, "extensions")[0]) : new Map();

  const org = single(subject, OID.O, "subject O");
  const name = single(subject, OID.CN, "subject CN");
  const role = single(subject, OID.OU, "subject OU");
  const issuerOrg = single(issuer, OID.O, "issuer O");

  let isCa = false;
  if (extensions.has(BASIC_CONSTRAINTS)) {
    const bc = fromBER(extensions.get(BASIC_CONSTRAINTS)).result;
    const first = children(bc, "basic constraints")[0];
    isCa = isTag(first, UNIVERSAL, 1) ? first.valueBlock.value : false;
  }
  let canSignCertificates = false;
  if (extensions.has(KEY_USAGE)) {
    const ku = bitString(fromBER(extensions.get(KEY_USAGE)).result, "key usage");
    canSignCertificates = ku.bytes.length > 0 && (ku.bytes[0] & 0x04) !== 0; // bit 5
  }
  const attributes = extensions.has(ATTRIBUTES_OID)
    ? decodeAttributes(extensions.get(ATTRIBUTES_OID))
    : {};

  const [keyAlgorithm, keyBits] = children(spki, "subject public key info");
  const keyOid = oidOf(children(keyAlgorithm, "key algorithm")[0], "key algorithm");
  let publicKeyAlgorithm;
  let publicKey;
  if (keyOid === ED25519_OID) {
    const bits = bitString(keyBits, "public key");
    if (bits.unused !== 0 || bits.bytes.length !== 32) fail("an Ed25519 public key is 32 bytes");
    publicKeyAlgorithm = ED25519_OID;
    publicKey = bits.bytes;
  } else if (keyOid === EC_PUBLIC_KEY_OID) {
    const raw = rawBytes(spki);
    const point = raw.subarray(SM2_SPKI_PREFIX.length);
    if (!equalBytes(raw.subarray(0, SM2_SPKI_PREFIX.length), SM2_SPKI_PREFIX) || point.length !== 65) {
      fail("unsupported elliptic curve public key (only SM2 is known)");
    }
    if (!sm2PublicKeyValid(point)) fail("the SM2 public key is not a point on the curve");
    publicKeyAlgorithm = SM2_OID;
    publicKey = point.slice();
  } else {
    fail(`unsupported public key algorithm ${keyOid}`);
  }
  if (notAfterMs < notBeforeMs) fail("validity window ends before it starts");
  const sig = bitString(signature, "signature");
  return {
    org,
    role,
    name,
    attributes,
    publicKey,
    notBeforeMs,
    notAfterMs,
    serialHex: bytesToHex(contentBytes(serial)),
    issuerOrg,
    isCa,
    der,
    publicKeyAlgorithm,
    signatureAlgorithm: oidOf(children(algorithm, "signature algorithm")[0], "signature algorithm"),
    tbs: rawBytes(tbs),
    tbsAlgorithm: rawBytes(fields[2]),
    signature: sig.bytes,
    subjectName: rawBytes(subject),
    issuerName: rawBytes(issuer),
    canSignCertificates,
  };
}

/** What Yulian reads out of one DER certificate; throws CertificateError when malformed. */
export function parseCertificate(der) {
  if (!(der instanceof Uint8Array) || der.length === 0) fail("empty certificate");
  if (der.length > MAX_CERTIFICATE_BYTES) {
    fail(`certificate of ${der.length} bytes exceeds ${MAX_CERTIFICATE_BYTES}`);
  }
  try {
    return parseInner(der);
  } catch (e) {
    if (e instanceof CertificateError) throw e;
    throw new CertificateError(`malformed certificate: ${e.message}`);
  }
}

/** True iff ``issuer`` is a CA that names and signed ``cert`` under ``suite``. */
export async function verifySignedBy(suite, cert, issuer) {
  if (!(issuer.isCa && issuer.canSignCertificates)) return false;
  if (!equalBytes(cert.issuerName, issuer.subjectName)) return false;
  if (suite.name === "standard") {
    return (
      cert.signatureAlgorithm === ED25519_OID &&
      (await suite.verify(issuer.publicKey, cert.tbs, cert.signature))
    );
  }
  if (suite.name === "gm") {
    return (
      cert.signatureAlgorithm === SM2_WITH_SM3_OID &&
      equalBytes(cert.tbsAlgorithm, SM2_WITH_SM3_ALGORITHM) &&
      (await suite.verify(issuer.publicKey, cert.tbs, cert.signature))
    );
  }
  return false;
}
