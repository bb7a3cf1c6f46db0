/**
 * MessagePack for relay records, byte for byte what `@msgpack/msgpack`'s `Encoder({ignoreUndefined:
 * true}).encode` produces (same headers, same integer widths, keys in property order, undefined
 * values skipped), at a fraction of its cost: the generic encoder spends several µs per record on
 * this hot path (the relay sends one record per tool event). Plain objects of fewer than 16 keys,
 * ASCII strings and finite non-negative numbers are written here; anything else (a non-ASCII tool
 * class, a negative number, an array, …) is handed to `@msgpack/msgpack` whole.
 *
 * `encodeInto` writes straight into the caller's buffer (the relay's batch of ZMTP frames), so a
 * record costs no allocation; `encodeRecord` returns a fresh buffer, for the rare record too large
 * for a batch.
 */
import { Buffer } from "node:buffer";
import { Encoder } from "@msgpack/msgpack";
import { TWO_POW_32, writeUint32BE, writeUint64BE } from "./bytes.ts";

const fallbackEncoder = new Encoder({ ignoreUndefined: true });
const KEY_CACHE_SIZE = 256;
const keyBytes = new Map<string, Uint8Array>();
const keyScratch = Buffer.allocUnsafe(512);
const hasOwn = Object.prototype.hasOwnProperty;
/** Returned by the writers: a value this module does not write itself. */
const UNSUPPORTED = -1;
/** Returned by the writers: the value does not fit in the space left. */
const NO_ROOM = -2;
/** String length from which one native `buf.write` is cheaper than a byte loop (measured on Node 24). */
const NATIVE_WRITE_FROM = 24;

/**
 * Writes `record` into `target` at `offset`; returns the end offset, or -1 when it does not fit in
 * `target` (then the bytes after `offset` are garbage and `target` is otherwise untouched).
 * Throws only what `@msgpack/msgpack` throws for a value it cannot encode.
 */
export function encodeInto(record: unknown, target: Buffer, offset: number): number {
  const end = writeValue(target, record, offset);
  if (end >= 0) return end;
  if (end === NO_ROOM) return -1;
  const bytes = fallbackEncoder.encode(record);
  if (offset + bytes.length > target.length) return -1;
  target.set(bytes, offset);
  return offset + bytes.length;
}

/**
 * Encodes `record` into a fresh buffer owned by the caller: the same bytes as `encodeInto`, for a
 * record too large for the caller's buffer. Such a record is rare and long, so it goes straight to
 * the library (the writers here pay off on the short records of every tool event).
 */
export function encodeRecord(record: unknown): Uint8Array {
  return fallbackEncoder.encode(record);
}

/** Writes `value` at `pos`; the new position, UNSUPPORTED or NO_ROOM. */
function writeValue(buf: Buffer, value: unknown, pos: number): number {
  switch (typeof value) {
    case "string":
      return writeAscii(buf, value, pos);
    case "number":
      return writeNumber(buf, value, pos);
    case "object":
      return value === null ? UNSUPPORTED : writeMap(buf, value as Record<string, unknown>, pos);
    default:
      return UNSUPPORTED;
  }
}

function writeMap(buf: Buffer, object: Record<string, unknown>, pos: number): number {
  const proto = Object.getPrototypeOf(object) as unknown;
  if (proto !== Object.prototype && proto !== null) return UNSUPPORTED;
  if (pos >= buf.length) return NO_ROOM;
  const header = pos++;
  let size = 0;
  // for-in over a plain object walks V8's enum cache (much cheaper than Object.keys + keyed loads);
  // the own-property check keeps it equal to Object.keys should anyone extend Object.prototype.
  for (const key in object) {
    if (!hasOwn.call(object, key)) continue;
    const item = object[key];
    if (item === undefined) continue;
    if (++size === 16) return UNSUPPORTED; // map 16 header: left to the library
    pos = writeKey(buf, key, pos);
    if (pos < 0) return pos;
    pos = writeValue(buf, item, pos);
    if (pos < 0) return pos;
  }
  buf[header] = 0x80 + size; // fixmap
  return pos;
}

/**
 * Keys repeat on every record: their encoded bytes (header included) are kept, up to KEY_CACHE_SIZE
 * distinct keys, and copied instead of being re-encoded char by char.
 */
function writeKey(buf: Buffer, key: string, pos: number): number {
  let bytes = keyBytes.get(key);
  if (bytes === undefined) {
    const end = keyBytes.size < KEY_CACHE_SIZE ? writeAscii(keyScratch, key, 0) : UNSUPPORTED;
    if (end < 0) return writeAscii(buf, key, pos);
    bytes = Uint8Array.prototype.slice.call(keyScratch, 0, end);
    keyBytes.set(key, bytes);
  }
  const length = bytes.length;
  if (pos + length > buf.length) return NO_ROOM;
  for (let i = 0; i < length; i++) buf[pos + i] = bytes[i] as number;
  return pos + length;
}

function writeAscii(buf: Buffer, text: string, pos: number): number {
  const length = text.length;
  if (length >= 0x10000) return UNSUPPORTED;
  // +4: room for a whole UTF-8 sequence past `length`, so a truncated non-ASCII write can never
  // look like a complete ASCII one below.
  if (pos + 3 + length + 4 > buf.length) return NO_ROOM;
  if (length < 32) {
    buf[pos++] = 0xa0 + length; // fixstr
  } else if (length < 0x100) {
    buf[pos++] = 0xd9; // str 8
    buf[pos++] = length;
  } else {
    buf[pos++] = 0xda; // str 16
    buf[pos++] = length >>> 8;
    buf[pos++] = length & 0xff;
  }
  if (length >= NATIVE_WRITE_FROM) {
    // One native call beats a JS byte loop on longer strings (ids). As many UTF-8 bytes as
    // UTF-16 units means every unit was ASCII.
    return buf.write(text, pos, buf.length - pos, "utf8") === length ? pos + length : UNSUPPORTED;
  }
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return UNSUPPORTED; // UTF-8 length differs from the string length
    buf[pos++] = code;
  }
  return pos;
}

function writeNumber(buf: Buffer, value: number, pos: number): number {
  if (!Number.isFinite(value) || value < 0) return UNSUPPORTED;
  if (pos + 9 > buf.length) return NO_ROOM;
  if (!Number.isSafeInteger(value)) {
    buf[pos] = 0xcb; // float 64
    buf.writeDoubleBE(value, pos + 1);
    return pos + 9;
  }
  if (value < 0x80) {
    buf[pos] = value; // positive fixint
    return pos + 1;
  }
  if (value < 0x100) {
    buf[pos] = 0xcc; // uint 8
    buf[pos + 1] = value;
    return pos + 2;
  }
  if (value < 0x10000) {
    buf[pos] = 0xcd; // uint 16
    buf[pos + 1] = value >>> 8;
    buf[pos + 2] = value & 0xff;
    return pos + 3;
  }
  if (value < TWO_POW_32) {
    buf[pos] = 0xce; // uint 32
    writeUint32BE(buf, pos + 1, value);
    return pos + 5;
  }
  buf[pos] = 0xcf; // uint 64
  writeUint64BE(buf, pos + 1, value);
  return pos + 9;
}
