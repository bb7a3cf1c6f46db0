/**
 * MessagePack for relay records, byte for byte what `@msgpack/msgpack`'s `Encoder({ignoreUndefined:
 * true}).encode` produces (same headers, same integer widths, keys in property order, undefined
 * values skipped), at a fraction of its cost: the generic encoder spends several µs per record on
 * this hot path (the relay sends one record per tool event). Plain objects of fewer than 16 keys,
 * ASCII strings and finite non-negative numbers are written here; anything else (a non-ASCII tool
 * class, a negative number, an array, …) is handed to `@msgpack/msgpack` whole.
 */
import { Buffer } from "node:buffer";
import { Encoder } from "@msgpack/msgpack";

const fallbackEncoder = new Encoder({ ignoreUndefined: true });
const scratch = Buffer.allocUnsafe(4096);
const UNSUPPORTED = -1;
const TWO_POW_32 = 4294967296;

/** Encodes `record`; the result is a fresh buffer owned by the caller (ZeroMQ may send it later). */
export function encodeRecord(record: unknown): Uint8Array {
  const end = writeValue(record, 0);
  if (end === UNSUPPORTED) return fallbackEncoder.encode(record);
  const out = Buffer.allocUnsafe(end); // from Node's buffer pool: no ArrayBuffer per record
  scratch.copy(out, 0, 0, end);
  return out;
}

/** Writes `value` at `pos`; the new position, or UNSUPPORTED. */
function writeValue(value: unknown, pos: number): number {
  switch (typeof value) {
    case "string":
      return writeAscii(value, pos);
    case "number":
      return writeNumber(value, pos);
    case "object":
      return value === null ? UNSUPPORTED : writeMap(value as Record<string, unknown>, pos);
    default:
      return UNSUPPORTED;
  }
}

function writeMap(object: Record<string, unknown>, pos: number): number {
  const proto = Object.getPrototypeOf(object) as unknown;
  if (proto !== Object.prototype && proto !== null) return UNSUPPORTED;
  const keys = Object.keys(object);
  let size = 0;
  for (const key of keys) if (object[key] !== undefined) size++;
  if (size >= 16 || pos + 1 > scratch.length) return UNSUPPORTED;
  scratch[pos++] = 0x80 + size; // fixmap
  for (const key of keys) {
    const item = object[key];
    if (item === undefined) continue;
    pos = writeAscii(key, pos);
    if (pos === UNSUPPORTED) return UNSUPPORTED;
    pos = writeValue(item, pos);
    if (pos === UNSUPPORTED) return UNSUPPORTED;
  }
  return pos;
}

function writeAscii(text: string, pos: number): number {
  const length = text.length;
  if (length >= 0x10000 || pos + 3 + length > scratch.length) return UNSUPPORTED;
  if (length < 32) {
    scratch[pos++] = 0xa0 + length; // fixstr
  } else if (length < 0x100) {
    scratch[pos++] = 0xd9; // str 8
    scratch[pos++] = length;
  } else {
    scratch[pos++] = 0xda; // str 16
    scratch[pos++] = length >>> 8;
    scratch[pos++] = length & 0xff;
  }
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return UNSUPPORTED; // UTF-8 length differs from the string length
    scratch[pos++] = code;
  }
  return pos;
}

function writeNumber(value: number, pos: number): number {
  if (!Number.isFinite(value) || value < 0 || pos + 9 > scratch.length) return UNSUPPORTED;
  if (!Number.isSafeInteger(value)) {
    scratch[pos] = 0xcb; // float 64
    scratch.writeDoubleBE(value, pos + 1);
    return pos + 9;
  }
  if (value < 0x80) {
    scratch[pos] = value; // positive fixint
    return pos + 1;
  }
  if (value < 0x100) {
    scratch[pos] = 0xcc; // uint 8
    scratch[pos + 1] = value;
    return pos + 2;
  }
  if (value < 0x10000) {
    scratch[pos] = 0xcd; // uint 16
    scratch.writeUInt16BE(value, pos + 1);
    return pos + 3;
  }
  if (value < TWO_POW_32) {
    scratch[pos] = 0xce; // uint 32
    scratch.writeUInt32BE(value, pos + 1);
    return pos + 5;
  }
  scratch[pos] = 0xcf; // uint 64
  scratch.writeUInt32BE(Math.floor(value / TWO_POW_32), pos + 1);
  scratch.writeUInt32BE(value >>> 0, pos + 5);
  return pos + 9;
}
