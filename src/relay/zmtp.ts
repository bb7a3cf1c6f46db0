/**
 * ZMTP 3.1 as a PUSH connecting to a bound PULL speaks it (rfc.zeromq.org/spec/37, "37/ZMTP"), without
 * sockets: the frame header the relay's messages are written with, the greeting and READY we send,
 * the PONG answer, and `ZmtpReader`, which reads what the PULL sends (greeting, READY, heartbeats)
 * with every frame size bounded and every byte copied a constant number of times. The socket's life
 * (timeouts, caps on unsent bytes, reconnecting) is ./connection.ts; docs/relay.md has the design.
 */
import { Buffer } from "node:buffer";
import { writeUint64BE } from "./bytes.ts";

/** Frame flags (37/ZMTP "Framing"): more frames of this message follow / 8-byte size / command. */
export const FLAG_MORE = 0x01;
const FLAG_LONG = 0x02;
const FLAG_COMMAND = 0x04;

/**
 * Largest frame the relay reads (37/ZMTP allows 2^63 - 1 bytes). Dynamo's PULL sends only the
 * greeting, READY and PINGs, a few dozen bytes each; a bigger frame is a broken or hostile peer.
 */
export const MAX_INBOUND_FRAME_BYTES = 1024 * 1024;

/** Writes a frame header (flags, then a 1-byte size or, from 256 bytes, LONG and an 8-byte big-endian size) at `pos`; returns where the body starts. */
export function writeFrameHeader(buf: Buffer, pos: number, flags: number, size: number): number {
  if (size < 0x100) {
    buf[pos] = flags;
    buf[pos + 1] = size;
    return pos + 2;
  }
  buf[pos] = flags | FLAG_LONG;
  writeUint64BE(buf, pos + 1, size);
  return pos + 9;
}

/** The peer is no usable ZMTP 3 PULL (bad greeting, other security mechanism, ERROR, wrong socket type) or broke a cap. */
export class ZmtpError extends Error {
  override readonly name = "ZmtpError";
}

export const GREETING_BYTES = 64;

/**
 * 37/ZMTP "Version Negotiation", second case: send the whole 64-byte greeting at once (signature
 * %xFF, 8 padding bytes, %x7F; version 3.1; mechanism "NULL" zero-padded to 20 bytes; as-server 0,
 * which NULL requires of both peers; 31 bytes of filler).
 */
export const GREETING = (() => {
  const greeting = Buffer.alloc(GREETING_BYTES);
  greeting[0] = 0xff;
  greeting[9] = 0x7f;
  greeting[10] = 3;
  greeting[11] = 1;
  greeting.write("NULL", 12, "latin1");
  return greeting;
})();

/** 37/ZMTP "The NULL Security Mechanism": READY with one property, `Socket-Type` = `PUSH`. */
export const READY = command("READY", property("Socket-Type", "PUSH"));

/** 37/ZMTP "Connection Heartbeating": PONG echoes the PING's context. */
export function pong(context: Uint8Array): Buffer {
  return command("PONG", context);
}

/** What the PULL's side of the conversation asks of the connection. */
export interface ZmtpInbound {
  /** The peer's greeting is complete and names NULL: our READY goes out now. */
  greeted(): void;
  /** The peer's READY arrived and names no socket type other than PULL: the handshake is done. */
  ready(): void;
  /** A heartbeat: TTL in ms (0 = none) and context (at most 16 bytes, valid only during the call). */
  ping(ttlMs: number, context: Buffer): void;
}

/**
 * Parses the byte stream from the PULL. Received chunks are kept as they came and concatenated once,
 * when the greeting or frame they belong to is complete: a frame dripped one byte per read costs
 * linear work, not one copy of everything so far per read. Message frames (a PULL sends none) are
 * skipped without being kept. Throws a ZmtpError for anything that makes the peer unusable.
 */
export class ZmtpReader {
  private readonly inbound: ZmtpInbound;
  private phase: "greeting" | "handshake" | "ready" = "greeting";
  /** Received bytes not parsed yet (an incomplete greeting or frame), as received. */
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes `chunks` must hold before parsing can make progress. */
  private need = 1;
  /** Bytes of an ignored message frame still to be discarded. */
  private skip = 0;

  constructor(inbound: ZmtpInbound) {
    this.inbound = inbound;
  }

  /** Some of the peer's greeting has arrived, not all of it. */
  get inGreeting(): boolean {
    return this.phase === "greeting" && this.buffered > 0;
  }

  push(chunk: Buffer): void {
    if (this.skip > 0) {
      const skipped = Math.min(this.skip, chunk.length);
      this.skip -= skipped;
      if (skipped === chunk.length) return;
      chunk = chunk.subarray(skipped);
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.need) return;
    const input = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.buffered);
    this.chunks.length = 0;
    this.buffered = 0;
    const used = this.phase === "greeting" ? this.greeting(input) : this.frames(input, 0);
    if (used === input.length) return;
    // A view, not a copy: it is copied once more, into the concatenation that completes its frame.
    const rest = used === 0 ? input : input.subarray(used);
    this.chunks.push(rest);
    this.buffered = rest.length;
  }

  /** Checks the greeting as far as it has arrived; returns the bytes used (0 until it is complete). */
  private greeting(input: Buffer): number {
    // 37/ZMTP "Backwards Interoperability": a first octet other than %xFF, or a tenth octet with
    // bit 0 clear, is ZMTP 1.0 (or no ZeroMQ at all); a major version below 3 is ZMTP 2.x. We
    // speak 3.x only (without downgrading), so say which case it is and close. Checked at octets
    // 1, 10 and 11, then the whole greeting at 64.
    if (input[0] !== 0xff) throw new ZmtpError("peer is not a ZeroMQ socket (invalid ZMTP greeting)");
    if (input.length >= 10 && (input[9]! & 0x01) === 0) throw new ZmtpError("peer speaks ZMTP 1.0; the relay needs ZMTP 3");
    if (input.length >= 11 && input[10]! < 3) throw new ZmtpError(`peer speaks ZMTP 2.0 or older (version byte ${input[10]}); the relay needs ZMTP 3`);
    if (input.length < GREETING_BYTES) {
      this.need = input.length < 10 ? 10 : input.length < 11 ? 11 : GREETING_BYTES;
      return 0;
    }
    // 37/ZMTP "Authentication and Confidentiality": a mechanism that does not exactly match ours
    // MUST close the connection.
    const mechanism = input.subarray(12, 32);
    if (!mechanism.equals(GREETING.subarray(12, 32))) {
      const name = printable(mechanism.toString("latin1").replace(/\0+$/, ""));
      throw new ZmtpError(`security mechanism mismatch: peer uses ${name || "none"}, the relay uses NULL`);
    }
    // NULL: the connecting peer (client) sends READY, then waits for the server's READY.
    this.phase = "handshake";
    this.inbound.greeted();
    return this.frames(input, GREETING_BYTES);
  }

  /** Parses whole frames from `at`; returns the offset of the first byte not parsed. */
  private frames(input: Buffer, at: number): number {
    this.need = 1;
    while (at < input.length) {
      const flags = input[at]!;
      const long = (flags & FLAG_LONG) !== 0;
      const header = long ? 9 : 2;
      if (input.length - at < header) {
        this.need = header;
        break;
      }
      // An 8-byte size above 2^32 is over the cap anyway: no BigInt needed.
      const size = !long ? input[at + 1]! : input.readUInt32BE(at + 1) !== 0 ? Infinity : input.readUInt32BE(at + 5);
      if (size > MAX_INBOUND_FRAME_BYTES) {
        throw new ZmtpError(`peer sent a frame over the relay's ${MAX_INBOUND_FRAME_BYTES / 1024 / 1024} MiB limit for inbound frames`);
      }
      if ((flags & FLAG_COMMAND) === 0) {
        // A PULL sends no messages; before READY anything but a command is a protocol error.
        if (this.phase !== "ready") throw new ZmtpError("unexpected message frame during the ZMTP handshake");
        const available = input.length - at - header;
        if (size > available) {
          this.skip = size - available;
          return input.length;
        }
        at += header + size;
        continue;
      }
      if (input.length - at - header < size) {
        this.need = header + size;
        break;
      }
      this.command(input.subarray(at + header, at + header + size));
      at += header + size;
    }
    return at;
  }

  /** 37/ZMTP "Commands": a name (1-byte size + name) followed by command data. */
  private command(body: Buffer): void {
    const nameSize = body[0] ?? 0;
    if (nameSize === 0 || body.length < 1 + nameSize) throw new ZmtpError("malformed ZMTP command from peer");
    const name = body.toString("latin1", 1, 1 + nameSize);
    const data = body.subarray(1 + nameSize);
    if (name === "ERROR") {
      // 37/ZMTP "Error Handling": ERROR is fatal; error-reason = 1-byte size + text.
      const reason = data.toString("latin1", 1, 1 + (data[0] ?? 0));
      throw new ZmtpError(`peer refused the connection (ZMTP ERROR: ${printable(reason) || "no reason"})`);
    }
    if (this.phase === "handshake") {
      if (name !== "READY") return;
      checkPeerMetadata(data);
      this.phase = "ready";
      this.inbound.ready();
      return;
    }
    // 37/ZMTP "Connection Heartbeating": PING = 2-byte TTL (tenths of a second) + up to 16 bytes of context.
    if (name === "PING" && data.length >= 2) this.inbound.ping(data.readUInt16BE(0) * 100, data.subarray(2, 18));
  }
}

/** The PULL's READY metadata must not name another socket type than PULL (37/ZMTP "The Socket-Type Property"). */
function checkPeerMetadata(metadata: Buffer): void {
  let at = 0;
  while (at < metadata.length) {
    const nameSize = metadata[at]!;
    if (nameSize === 0 || at + 1 + nameSize + 4 > metadata.length) throw new ZmtpError("malformed READY metadata from peer");
    const name = metadata.toString("latin1", at + 1, at + 1 + nameSize);
    const valueSize = metadata.readUInt32BE(at + 1 + nameSize);
    const value = at + 1 + nameSize + 4;
    if (value + valueSize > metadata.length) throw new ZmtpError("malformed READY metadata from peer");
    // Metadata names are case-insensitive (37/ZMTP "Connection Metadata").
    if (name.toLowerCase() === "socket-type") {
      const type = metadata.toString("latin1", value, value + valueSize);
      if (type.toUpperCase() !== "PULL") throw new ZmtpError(`peer is a ${printable(type)} socket; the relay's PUSH needs Dynamo's PULL`);
    }
    at = value + valueSize;
  }
}

/** A command frame: 1-byte name size, name, data (37/ZMTP "Commands"). */
function command(name: string, data: Uint8Array): Buffer {
  const size = 1 + name.length + data.length;
  const frame = Buffer.allocUnsafe((size < 0x100 ? 2 : 9) + size);
  let at = writeFrameHeader(frame, 0, FLAG_COMMAND, size);
  frame[at++] = name.length;
  at += frame.write(name, at, "latin1");
  frame.set(data, at);
  return frame;
}

/** A metadata property: 1-byte name size, name, 4-byte big-endian value size, value. */
function property(name: string, value: string): Buffer {
  const bytes = Buffer.alloc(1 + name.length + 4 + value.length);
  bytes[0] = name.length;
  bytes.write(name, 1, "latin1");
  bytes.writeUInt32BE(value.length, 1 + name.length);
  bytes.write(value, 1 + name.length + 4, "latin1");
  return bytes;
}

/** Peer-supplied text made safe for one log line. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 100);
}
