// The vendored cryptography of the explorer's offline verifier (see README.md beside it).
export { sm2, sm3 } from "sm-crypto-v2";
export { ed25519 } from "@noble/curves/ed25519";
export { sha256 } from "@noble/hashes/sha256";
