// Contract values in JSON (yulian.types.jsonvalue.to_json), JSON text that keeps integers
// beyond 2^53 exact, and equality with Python's semantics for JSON values (what
// ``claimed != proven`` means in yulian.sdk.verify.verify_receipt).

import { bytesToHex } from "./bytes.js";

/** bytes -> {"$bytes": hex}; arrays -> lists; maps -> objects; everything else as it is. */
export function toJson(value) {
  if (value instanceof Uint8Array) return { $bytes: bytesToHex(value) };
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Map) {
    const out = {};
    for (const [k, v] of value) out[k] = toJson(v);
    return out;
  }
  return value;
}

/** JSON.parse, except that an integer too large for a double comes back as a BigInt. */
export function parseJson(text) {
  return JSON.parse(text, (_key, value, context) => {
    if (
      typeof value === "number" &&
      !Number.isSafeInteger(value) &&
      context &&
      /^-?\d+$/.test(context.source)
    ) {
      return BigInt(context.source);
    }
    return value;
  });
}

/** JSON.stringify that writes BigInts as plain integers. */
export function stringifyJson(value, indent) {
  return JSON.stringify(
    value,
    (_key, v) => (typeof v === "bigint" ? JSON.rawJSON(v.toString()) : v),
    indent,
  );
}

function numeric(v) {
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  return undefined;
}

/** ``a == b`` for values Python's json module reads: numbers and booleans compare by value
 * (True == 1), objects by their keys and values, lists item by item. */
export function pyEqual(a, b) {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined || nb !== undefined) {
    if (na === undefined || nb === undefined) return false;
    if (typeof na === "bigint" && typeof nb === "bigint") return na === nb;
    return Number(na) === Number(nb);
  }
  if (a === null || b === null) return a === b;
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEqual(x, b[i]));
  }
  if (typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && pyEqual(a[k], b[k]));
  }
  return false;
}

/** Python's repr() of a string or number, so that failure reasons read as the CLI's do. */
export function pyRepr(value) {
  if (typeof value !== "string") return value === null || value === undefined ? "None" : String(value);
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  const body = value.replace(/\\/g, "\\\\").replace(new RegExp(quote, "g"), `\\${quote}`);
  return `${quote}${body}${quote}`;
}
