// Canonical msgpack, as yulian.types.encoding defines it: decode(b) accepts exactly the bytes
// for which Python's encode(decode(b)) == b, inside explicit limits; encode writes the one
// encoding of a value. JS msgpack libraries are lenient (they accept any valid encoding, turn
// maps into objects whose integer-like keys reorder, and encode large integers their own
// way), so checking "canonical" would need an encoder that matches Python's byte for byte
// anyway: this module is that encoder plus a decoder that refuses every non-minimal form as
// it reads (see docs/decisions/0040-explorer-static-app-and-vendored-libraries.md).
//
// Values: null, boolean, integers (a Number when safe, else a BigInt), string, Uint8Array
// (msgpack bin), Array (msgpack array) and Map (string keys in ascending UTF-8 order).

export class DecodeError extends Error {}

export const DEFAULT_LIMITS = Object.freeze({
  maxBytes: 1 << 20,
  maxDepth: 16,
  maxItems: 1 << 16,
  maxStr: 1 << 16,
  maxBin: 1 << 20,
});

export function limits(overrides) {
  return Object.freeze({ ...DEFAULT_LIMITS, ...overrides });
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

const TWO_32 = 2n ** 32n;

function toInt(big) {
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big)
    : big;
}

export function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

class Reader {
  constructor(bytes, lim) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    this.lim = lim;
  }

  take(n) {
    if (this.pos + n > this.bytes.length) throw new DecodeError("malformed msgpack: truncated");
    const start = this.pos;
    this.pos += n;
    return start;
  }

  u8() {
    return this.bytes[this.take(1)];
  }

  uint(size) {
    const at = this.take(size);
    if (size === 1) return this.view.getUint8(at);
    if (size === 2) return this.view.getUint16(at);
    if (size === 4) return this.view.getUint32(at);
    return this.view.getBigUint64(at);
  }

  sint(size) {
    const at = this.take(size);
    if (size === 1) return this.view.getInt8(at);
    if (size === 2) return this.view.getInt16(at);
    if (size === 4) return this.view.getInt32(at);
    return this.view.getBigInt64(at);
  }

  value(depth) {
    if (depth > this.lim.maxDepth) throw new DecodeError(`nesting deeper than ${this.lim.maxDepth}`);
    const tag = this.u8();
    if (tag <= 0x7f) return tag;
    if (tag >= 0xe0) return tag - 0x100;
    if (tag >= 0xa0 && tag <= 0xbf) return this.str(tag & 0x1f, 0);
    if (tag >= 0x90 && tag <= 0x9f) return this.array(tag & 0x0f, depth);
    if (tag >= 0x80 && tag <= 0x8f) return this.map(tag & 0x0f, depth);
    switch (tag) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xcc:
        return this.minimal(this.uint(1), 0x80);
      case 0xcd:
        return this.minimal(this.uint(2), 0x100);
      case 0xce:
        return this.minimal(this.uint(4), 0x10000);
      case 0xcf: {
        const v = this.uint(8);
        if (v < TWO_32) throw new DecodeError("non-canonical encoding");
        return toInt(v);
      }
      case 0xd0:
        return this.negative(this.sint(1), -32);
      case 0xd1:
        return this.negative(this.sint(2), -128);
      case 0xd2:
        return this.negative(this.sint(4), -32768);
      case 0xd3: {
        const v = this.sint(8);
        if (v >= -(2n ** 31n)) throw new DecodeError("non-canonical encoding");
        return toInt(v);
      }
      case 0xd9:
        return this.str(this.uint(1), 32);
      case 0xda:
        return this.str(this.uint(2), 0x100);
      case 0xdb:
        return this.str(this.uint(4), 0x10000);
      case 0xc4:
        return this.bin(this.uint(1), 0);
      case 0xc5:
        return this.bin(this.uint(2), 0x100);
      case 0xc6:
        return this.bin(this.uint(4), 0x10000);
      case 0xdc:
        return this.array(this.minimal(this.uint(2), 16), depth);
      case 0xdd:
        return this.array(this.minimal(this.uint(4), 0x10000), depth);
      case 0xde:
        return this.map(this.minimal(this.uint(2), 16), depth);
      case 0xdf:
        return this.map(this.minimal(this.uint(4), 0x10000), depth);
      case 0xca:
      case 0xcb:
        throw new DecodeError("floats are not allowed");
      default:
        throw new DecodeError(`malformed msgpack: type 0x${tag.toString(16)} is not allowed`);
    }
  }

  minimal(value, least) {
    if (value < least) throw new DecodeError("non-canonical encoding");
    return value;
  }

  negative(value, below) {
    if (value >= below) throw new DecodeError("non-canonical encoding");
    return value;
  }

  str(size, least) {
    this.minimal(size, least);
    if (size > this.lim.maxStr) throw new DecodeError(`string of ${size} bytes exceeds the limit`);
    const at = this.take(size);
    try {
      return utf8.decode(this.bytes.subarray(at, at + size));
    } catch {
      throw new DecodeError("malformed msgpack: invalid UTF-8");
    }
  }

  bin(size, least) {
    this.minimal(size, least);
    if (size > this.lim.maxBin) throw new DecodeError(`bytes of ${size} exceed the limit`);
    const at = this.take(size);
    return this.bytes.slice(at, at + size);
  }

  array(count, depth) {
    if (count > this.lim.maxItems) throw new DecodeError(`array of ${count} items exceeds the limit`);
    const out = [];
    for (let i = 0; i < count; i++) out.push(this.value(depth + 1));
    return out;
  }

  map(count, depth) {
    if (count > this.lim.maxItems) throw new DecodeError(`map of ${count} items exceeds the limit`);
    const out = new Map();
    let previous = null;
    for (let i = 0; i < count; i++) {
      const key = this.value(depth + 1);
      if (typeof key !== "string") throw new DecodeError("map keys must be strings");
      const text = utf8Encoder.encode(key);
      if (previous !== null && compareBytes(text, previous) <= 0) {
        throw new DecodeError("map keys must be unique and in ascending order");
      }
      previous = text;
      out.set(key, this.value(depth + 1));
    }
    return out;
  }
}

/** Decode ``bytes`` strictly: in limits, an allowed value, canonical, nothing after it. */
export function decode(bytes, lim = DEFAULT_LIMITS) {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError("expected bytes");
  if (bytes.length > lim.maxBytes) {
    throw new DecodeError(`encoding of ${bytes.length} bytes exceeds the limit of ${lim.maxBytes}`);
  }
  const reader = new Reader(bytes, lim);
  const value = reader.value(0);
  if (reader.pos !== bytes.length) throw new DecodeError("malformed msgpack: extra data");
  return value;
}

// --- encoding -------------------------------------------------------------------------------

class Writer {
  constructor() {
    this.parts = [];
    this.size = 0;
  }

  push(bytes) {
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  head(tag, size, value) {
    const out = new Uint8Array(1 + size);
    out[0] = tag;
    const view = new DataView(out.buffer);
    if (size === 1) view.setUint8(1, Number(value) & 0xff);
    else if (size === 2) view.setUint16(1, Number(value));
    else if (size === 4) view.setUint32(1, Number(value));
    else if (size === 8) view.setBigUint64(1, BigInt.asUintN(64, BigInt(value)));
    this.push(out);
  }

  int(v) {
    const big = BigInt(v);
    if (big >= 0n) {
      if (big < 0x80n) this.push(Uint8Array.of(Number(big)));
      else if (big < 0x100n) this.head(0xcc, 1, big);
      else if (big < 0x10000n) this.head(0xcd, 2, big);
      else if (big < TWO_32) this.head(0xce, 4, big);
      else if (big < 2n ** 64n) this.head(0xcf, 8, big);
      else throw new RangeError("integer out of 64-bit range");
    } else if (big >= -32n) this.push(Uint8Array.of(Number(big) & 0xff));
    else if (big >= -128n) this.head(0xd0, 1, big);
    else if (big >= -32768n) this.head(0xd1, 2, Number(big) & 0xffff);
    else if (big >= -(2n ** 31n)) this.head(0xd2, 4, Number(big) >>> 0);
    else if (big >= -(2n ** 63n)) this.head(0xd3, 8, big);
    else throw new RangeError("integer out of 64-bit range");
  }

  length(n, fix, fixMax, tag16, tag32) {
    if (n <= fixMax) this.push(Uint8Array.of(fix | n));
    else if (n < 0x10000) this.head(tag16, 2, n);
    else this.head(tag32, 4, n);
  }

  value(v) {
    if (v === null) this.push(Uint8Array.of(0xc0));
    else if (v === false) this.push(Uint8Array.of(0xc2));
    else if (v === true) this.push(Uint8Array.of(0xc3));
    else if (typeof v === "bigint") this.int(v);
    else if (typeof v === "number") {
      if (!Number.isSafeInteger(v)) throw new RangeError("only integers are encodable");
      this.int(v);
    } else if (typeof v === "string") {
      const text = utf8Encoder.encode(v);
      const n = text.length;
      if (n < 32) this.push(Uint8Array.of(0xa0 | n));
      else if (n < 0x100) this.head(0xd9, 1, n);
      else if (n < 0x10000) this.head(0xda, 2, n);
      else this.head(0xdb, 4, n);
      this.push(text);
    } else if (v instanceof Uint8Array) {
      const n = v.length;
      if (n < 0x100) this.head(0xc4, 1, n);
      else if (n < 0x10000) this.head(0xc5, 2, n);
      else this.head(0xc6, 4, n);
      this.push(v);
    } else if (Array.isArray(v)) {
      this.length(v.length, 0x90, 15, 0xdc, 0xdd);
      for (const item of v) this.value(item);
    } else if (v instanceof Map) {
      const keys = [...v.keys()].map((k) => [k, utf8Encoder.encode(k)]);
      keys.sort((a, b) => compareBytes(a[1], b[1]));
      this.length(keys.length, 0x80, 15, 0xde, 0xdf);
      for (const [k] of keys) {
        this.value(k);
        this.value(v.get(k));
      }
    } else throw new TypeError(`type ${typeof v} is not encodable`);
  }

  bytes() {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** The canonical encoding of ``value`` (maps are written in ascending UTF-8 key order). */
export function encode(value) {
  const w = new Writer();
  w.value(value);
  return w.bytes();
}
