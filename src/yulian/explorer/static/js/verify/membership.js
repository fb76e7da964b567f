// The membership check (yulian.crypto.membership): is this certificate a member of the
// consortium at this time, in one of these roles? It must parse, be signed by the root CA of
// the organisation its subject names (a root of the given config), be inside its and its
// CA's validity windows, not be revoked (nor its key), and carry an allowed role. Every
// refusal is a MembershipError with the same stable code as in Python, checked in the same
// order.

import { pyRepr } from "./jsonvalue.js";
import { bytesToHex } from "./bytes.js";
import { CertificateError, ROLES, parseCertificate, verifySignedBy } from "./x509.js";

export class MembershipError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/** The parsed root CA of ``org``, or a MembershipError unless it is a self-signed CA
 * certificate under ``suite`` naming ``org`` (membership.check_root). */
export async function checkRoot(suite, org) {
  let root;
  try {
    root = parseCertificate(org.caCert);
  } catch (e) {
    if (e instanceof CertificateError) {
      throw new MembershipError("malformed_certificate", `root CA of organisation ${org.name}: ${e.message}`);
    }
    throw e;
  }
  if (!(root.isCa && root.canSignCertificates)) {
    throw new MembershipError("malformed_certificate", `root CA of organisation ${org.name} is not a CA certificate`);
  }
  if (root.org !== org.name) {
    throw new MembershipError("organisation_mismatch", `root CA of organisation ${org.name} names organisation ${root.org}`);
  }
  if (!(await verifySignedBy(suite, root, root))) {
    throw new MembershipError("unknown_ca", `root CA of organisation ${org.name} is not self-signed under ${suite.name}`);
  }
  return root;
}

export class Membership {
  /** Use ``await Membership.create(...)``: the roots are checked as in Python's constructor. */
  constructor(suite, roots, revokedIds, revokedKeys) {
    this.suite = suite;
    this.roots = roots; // Map org name -> parsed root
    this.revokedIds = revokedIds; // Set of hex cert ids
    this.revokedKeys = revokedKeys; // Set of "org\0hex key"
  }

  static async create(suite, organisations, { revokedIds = [], revokedKeys = [] } = {}) {
    const roots = new Map();
    for (const org of organisations) {
      if (roots.has(org.name)) throw new Error(`organisation ${org.name} listed twice`);
      roots.set(org.name, await checkRoot(suite, org));
    }
    return new Membership(
      suite,
      roots,
      new Set(revokedIds.map(bytesToHex)),
      new Set(revokedKeys.map(([org, key]) => `${org}\0${bytesToHex(key)}`)),
    );
  }

  /** The identity ``certDer`` establishes at ``atMs`` for an action open to ``roles``. */
  async validate(certDer, atMs, roles) {
    let info;
    try {
      info = parseCertificate(certDer);
    } catch (e) {
      if (e instanceof CertificateError) throw new MembershipError("malformed_certificate", e.message);
      throw e;
    }
    if (info.isCa || !ROLES.includes(info.role)) {
      throw new MembershipError("role_not_allowed", `${info.name}@${info.org}: role ${pyRepr(info.role)} is not a member role`);
    }
    const root = this.roots.get(info.org);
    if (root === undefined || !(await verifySignedBy(this.suite, info, root))) {
      for (const [name, other] of this.roots) {
        if (name !== info.org && (await verifySignedBy(this.suite, info, other))) {
          throw new MembershipError(
            "organisation_mismatch",
            `certificate names organisation ${pyRepr(info.org)} but was issued by the CA of ${pyRepr(name)}`,
          );
        }
      }
      if (root === undefined) {
        throw new MembershipError("unknown_ca", `organisation ${pyRepr(info.org)} is not in the consortium`);
      }
      throw new MembershipError("unknown_ca", `certificate is not signed by the root CA of ${pyRepr(info.org)}`);
    }
    const id = bytesToHex(await this.suite.hash(certDer));
    const who = `${info.name}@${info.org}`;
    if (this.revokedIds.has(id) || this.revokedKeys.has(`${info.org}\0${bytesToHex(info.publicKey)}`)) {
      throw new MembershipError("certificate_revoked", `certificate of ${who} (or its key) is revoked`);
    }
    if (atMs < info.notBeforeMs) {
      throw new MembershipError("certificate_not_yet_valid", `certificate of ${who} is valid from ${info.notBeforeMs} ms, checked at ${atMs} ms`);
    }
    if (atMs > info.notAfterMs) {
      throw new MembershipError("certificate_expired", `certificate of ${who} expired at ${info.notAfterMs} ms, checked at ${atMs} ms`);
    }
    if (atMs < root.notBeforeMs) {
      throw new MembershipError("certificate_not_yet_valid", `root CA of ${info.org} is valid from ${root.notBeforeMs} ms, checked at ${atMs} ms`);
    }
    if (atMs > root.notAfterMs) {
      throw new MembershipError("certificate_expired", `root CA of ${info.org} expired at ${root.notAfterMs} ms, checked at ${atMs} ms`);
    }
    if (!roles.includes(info.role)) {
      throw new MembershipError("role_not_allowed", `role ${pyRepr(info.role)} of ${who} is not allowed here (allowed: ${[...roles].sort().join(", ") || "none"})`);
    }
    return {
      org: info.org,
      role: info.role,
      name: info.name,
      id,
      attributes: info.attributes,
      publicKey: info.publicKey,
      cert: certDer,
    };
  }
}
