/**
 * One ZMTP 3.1 connection from a PUSH socket to a bound PULL (rfc.zeromq.org/spec/37, "37/ZMTP"),
 * on `node:net`: the greeting, the NULL security handshake with `Socket-Type: PUSH`, answering the
 * peer's heartbeat PINGs, and the frame header the relay's messages are written with. The caller
 * writes whole, already framed messages (`write`), many per buffer; this class never buffers them.
 * What a PULL may send us besides the handshake (heartbeats, future commands) is read and, except
 * PING and ERROR, ignored.
 */
import { Buffer } from "node:buffer";
import { connect, type NetConnectOpts, type Socket } from "node:net";
import { writeUint64BE } from "./bytes.ts";
import type { RelayAddress } from "./endpoint.ts";

/** Frame flags (37/ZMTP "Framing"): more frames of this message follow / 8-byte size / command. */
export const FLAG_MORE = 0x01;
const FLAG_LONG = 0x02;
const FLAG_COMMAND = 0x04;

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

/** The peer is no usable ZMTP 3 PULL: bad greeting, other security mechanism, ERROR command, wrong socket type. */
export class ZmtpError extends Error {
  override readonly name = "ZmtpError";
}

export interface ZmtpEvents {
  /** Both READY commands are exchanged: messages may be written from now on. */
  ready(): void;
  /** The socket takes writes again after `write` returned false. */
  drain(): void;
  /** The connection is gone (called once, never after `destroy()`); `error` says why when known. */
  close(error: Error | undefined): void;
}

const GREETING_BYTES = 64;
/** Commands from a PULL are a few bytes; anything this large is not one we read. */
const MAX_COMMAND_BYTES = 64 * 1024;
/** Bytes the socket buffers before `write` returns false: a few of the relay's 64 KiB batches. */
const WRITE_BUFFER_BYTES = 256 * 1024;
/** libzmq's default handshake interval is 30 s; a relay waiting on a silent peer holds its events. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * 37/ZMTP "Version Negotiation", second case: send the whole 64-byte greeting at once (signature
 * %xFF, 8 padding bytes, %x7F; version 3.1; mechanism "NULL" zero-padded to 20 bytes; as-server 0,
 * which NULL requires of both peers; 31 bytes of filler).
 */
const GREETING = (() => {
  const greeting = Buffer.alloc(GREETING_BYTES);
  greeting[0] = 0xff;
  greeting[9] = 0x7f;
  greeting[10] = 3;
  greeting[11] = 1;
  greeting.write("NULL", 12, "latin1");
  return greeting;
})();

/** 37/ZMTP "The NULL Security Mechanism": READY with one property, `Socket-Type` = `PUSH`. */
const READY = command("READY", property("Socket-Type", "PUSH"));

export class ZmtpPushConnection {
  private readonly socket: Socket;
  private readonly events: ZmtpEvents;
  private phase: "greeting" | "handshake" | "ready" | "closed" = "greeting";
  /** Received bytes not parsed yet (an incomplete greeting or frame). */
  private inbox: Buffer | undefined;
  /** Bytes of an ignored frame still to be discarded. */
  private skip = 0;
  private tcpConnected = false;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private ttlTimer: NodeJS.Timeout | undefined;

  constructor(address: RelayAddress, events: ZmtpEvents, handshakeTimeoutMs = HANDSHAKE_TIMEOUT_MS) {
    this.events = events;
    // No Nagle: a lone event must not wait for the ACK of the previous write (libzmq sets
    // TCP_NODELAY too). Keepalive, as Dynamo's own sockets do, notices a vanished host.
    // The high-water mark lets a few 64 KiB batches queue before `write` asks us to wait.
    // (`writableHighWaterMark` reaches the socket's stream; @types/node does not list it for connect.)
    const options: NetConnectOpts & { writableHighWaterMark: number } = {
      ...address,
      noDelay: true,
      keepAlive: true,
      writableHighWaterMark: WRITE_BUFFER_BYTES,
    };
    this.socket = connect(options);
    // Never what keeps the process alive: the relay is best effort.
    this.socket.unref();
    this.socket.on("connect", () => {
      this.tcpConnected = true;
      this.socket.write(GREETING);
    });
    this.socket.on("data", (chunk: Buffer) => this.receive(chunk));
    this.socket.on("drain", () => {
      if (this.phase === "ready") this.events.drain();
    });
    // A PULL never half-closes: its FIN means it is going away, so are our unsent bytes.
    this.socket.on("end", () => this.finish(new Error("connection closed by peer")));
    this.socket.on("error", (error) => this.finish(error));
    this.socket.on("close", () => this.finish(new Error("connection closed")));
    this.handshakeTimer = setTimeout(() => {
      this.finish(
        this.tcpConnected
          ? new ZmtpError(`no ZMTP 3 handshake from the peer within ${handshakeTimeoutMs} ms`)
          : new Error(`connect timed out after ${handshakeTimeoutMs} ms`),
      );
    }, handshakeTimeoutMs);
    this.handshakeTimer.unref();
  }

  /** True once the handshake completed, until the connection closes. */
  get ready(): boolean {
    return this.phase === "ready";
  }

  /** Writes framed messages (whole messages only); `false` when the caller should wait for `drain`. */
  write(data: Buffer, done: (error?: Error | null) => void): boolean {
    return this.socket.write(data, done);
  }

  /** Closes at once (linger 0); no event follows. Pending writes complete with an error. */
  destroy(): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.ttlTimer);
    this.ttlTimer = undefined;
    this.inbox = undefined;
    this.socket.destroy();
  }

  /** Closes and reports it (once). */
  private finish(error: Error | undefined): void {
    if (this.phase === "closed") return;
    this.destroy();
    this.events.close(error);
  }

  private receive(chunk: Buffer): void {
    // 37/ZMTP "Connection Heartbeating": any traffic is a sign of life.
    this.ttlTimer?.refresh();
    if (this.skip > 0) {
      const skipped = Math.min(this.skip, chunk.length);
      this.skip -= skipped;
      if (skipped === chunk.length) return;
      chunk = chunk.subarray(skipped);
    }
    const input = this.inbox === undefined ? chunk : Buffer.concat([this.inbox, chunk]);
    this.inbox = undefined;
    try {
      const used = this.phase === "greeting" ? this.greeting(input) : 0;
      const parsed = this.phase === "greeting" ? used : this.frames(input, used);
      if (parsed < input.length && this.phase !== "closed") this.inbox = Buffer.from(input.subarray(parsed));
    } catch (error) {
      this.finish(error as Error);
    }
  }

  /** Checks the peer's greeting as far as it has arrived; returns the bytes used (64 once complete). */
  private greeting(input: Buffer): number {
    // 37/ZMTP "Backwards Interoperability": a first octet other than %xFF, or a tenth octet with
    // bit 0 clear, is ZMTP 1.0 (or no ZeroMQ at all); a major version below 3 is ZMTP 2.x. We
    // speak 3.x only (without downgrading), so say which case it is and close.
    if (input.length >= 1 && input[0] !== 0xff) throw new ZmtpError("peer is not a ZeroMQ socket (invalid ZMTP greeting)");
    if (input.length >= 10 && (input[9]! & 0x01) === 0) throw new ZmtpError("peer speaks ZMTP 1.0; the relay needs ZMTP 3");
    if (input.length >= 11 && input[10]! < 3) throw new ZmtpError(`peer speaks ZMTP 2.0 or older (version byte ${input[10]}); the relay needs ZMTP 3`);
    if (input.length < GREETING_BYTES) return 0;
    // 37/ZMTP "Authentication and Confidentiality": a mechanism that does not exactly match ours
    // MUST close the connection.
    const mechanism = input.subarray(12, 32);
    if (!mechanism.equals(GREETING.subarray(12, 32))) {
      const name = printable(mechanism.toString("latin1").replace(/\0+$/, ""));
      throw new ZmtpError(`security mechanism mismatch: peer uses ${name || "none"}, the relay uses NULL`);
    }
    // NULL: the connecting peer (client) sends READY, then waits for the server's READY.
    this.phase = "handshake";
    this.socket.write(READY);
    return GREETING_BYTES;
  }

  /** Parses whole frames from `at`; returns the offset of the first byte not parsed. */
  private frames(input: Buffer, at: number): number {
    while (at < input.length && this.phase !== "closed") {
      const flags = input[at]!;
      const long = (flags & FLAG_LONG) !== 0;
      const header = long ? 9 : 2;
      if (input.length - at < header) break;
      const size = long ? Number(input.readBigUInt64BE(at + 1)) : input[at + 1]!;
      const isCommand = (flags & FLAG_COMMAND) !== 0;
      if (!isCommand || size > MAX_COMMAND_BYTES) {
        // A PULL sends no messages; before READY anything but a command is a protocol error.
        if (this.phase !== "ready") throw new ZmtpError(`unexpected ${isCommand ? "oversized command" : "message"} frame during the ZMTP handshake`);
        const available = input.length - at - header;
        if (size > available) {
          this.skip = size - available;
          return input.length;
        }
        at += header + size;
        continue;
      }
      if (input.length - at - header < size) break;
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
      if (name === "READY") this.peerReady(data);
      return;
    }
    if (name === "PING") this.ping(data);
  }

  /** The PULL's READY: its metadata must not name another socket type than PULL (37/ZMTP "The Socket-Type Property"). */
  private peerReady(metadata: Buffer): void {
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
        if (type.toUpperCase() !== "PULL") {
          throw new ZmtpError(`peer is a ${printable(type)} socket; the relay's PUSH needs Dynamo's PULL`);
        }
      }
      at = value + valueSize;
    }
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.phase = "ready";
    this.events.ready();
  }

  /**
   * 37/ZMTP "Connection Heartbeating": PING = 2-byte TTL (tenths of a second) + up to 16 bytes of
   * context; we MUST answer PONG echoing the context. Dynamo's PULL pings every 5 s and drops a
   * peer it has not heard from for 15 s (ai-dynamo/dynamo lib/llm/src/utils/zmq.rs). A non-zero TTL
   * also tells us to consider the connection dead after that long without traffic from the peer.
   */
  private ping(data: Buffer): void {
    if (data.length < 2) return;
    const context = data.subarray(2, 18);
    this.socket.write(command("PONG", context));
    const ttlMs = data.readUInt16BE(0) * 100;
    if (ttlMs === 0) return;
    clearTimeout(this.ttlTimer);
    this.ttlTimer = setTimeout(() => this.finish(new Error(`no traffic from the peer within its heartbeat TTL (${ttlMs} ms)`)), ttlMs);
    this.ttlTimer.unref();
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
