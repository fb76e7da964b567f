// RFC 9162 inclusion proofs over the chain's hash (yulian.crypto.merkle.verify_inclusion):
// leaf H(0x00 || d), node H(0x01 || left || right), the index checked against the tree size
// and the exact proof length. Never throws on malformed input: it answers false.

import { concatBytes, equalBytes } from "./bytes.js";

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

function bitLength(n) {
  return n <= 0 ? 0 : Math.floor(Math.log2(n)) + 1;
}

export async function verifyInclusion(leaf, index, treeSize, proof, root, hash) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize)) return false;
  if (!(index >= 0 && index < treeSize)) return false;
  if (!(leaf instanceof Uint8Array) || !(root instanceof Uint8Array)) return false;
  if (!Array.isArray(proof)) return false;
  if (proof.length > bitLength(treeSize - 1)) return false;
  let r = await hash(concatBytes(LEAF, leaf));
  const digestSize = r.length;
  if (root.length !== digestSize) return false;
  let fn = index;
  let sn = treeSize - 1;
  for (const p of proof) {
    if (!(p instanceof Uint8Array) || p.length !== digestSize) return false;
    if (sn === 0) return false; // proof longer than the path
    if (fn % 2 === 1 || fn === sn) {
      r = await hash(concatBytes(NODE, p, r));
      if (fn % 2 === 0) {
        while (fn !== 0 && fn % 2 === 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await hash(concatBytes(NODE, r, p));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}
