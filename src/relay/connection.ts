/**
 * The relay's ZeroMQ socket life (docs/relay.md): `ZmtpPushConnection` is one ZMTP 3.1 connection
 * from our PUSH to Dynamo's bound PULL on `node:net` (the protocol itself is ./zmtp.ts), with
 * a bound on everything a broken or hostile peer could make it hold: the handshake time, the
 * heartbeat TTL, inbound frame sizes (./zmtp.ts), PONGs (at most one unflushed) and the bytes
 * written but not taken by the peer. `PushLink` keeps one such connection: it connects when asked,
 * retries with backoff, and turns a peer's faults into one log line per cause.
 */
import { connect, type NetConnectOpts, type Socket } from "node:net";
import type { RelayAddress } from "./endpoint.ts";
import { GREETING, pong, READY, ZmtpError, ZmtpReader } from "./zmtp.ts";

export interface ZmtpEvents {
  /** Both READY commands are exchanged: messages may be written from now on. */
  ready(): void;
  /** The socket takes writes again after `write` returned false. */
  drain(): void;
  /** The connection is gone (called once, never after `destroy()`); `error` says why when known. */
  close(error: Error | undefined): void;
}

export interface ConnectionLimits {
  /** Time from connect to both READYs. libzmq's default is 30 s; a relay waiting on a silent peer holds its events. */
  handshakeTimeoutMs: number;
  /** Bytes the socket may already hold unsent when more is written; beyond it the peer is not reading and the connection is dropped. */
  maxUnsentBytes: number;
}

const DEFAULT_LIMITS: ConnectionLimits = { handshakeTimeoutMs: 10_000, maxUnsentBytes: 4 * 1024 * 1024 };

/** Bytes the socket buffers before `write` returns false: a few of the relay's 64 KiB batches. */
const WRITE_BUFFER_BYTES = 256 * 1024;

/**
 * libzmq closes right after our greeting when it requires another mechanism (CURVE, PLAIN): it
 * sends its 10-byte signature, reads our "NULL", and hangs up before naming its own mechanism.
 */
export const CLOSED_IN_GREETING =
  "peer closed during the ZMTP greeting — security mechanism? (the relay speaks ZMTP NULL only; a PULL that requires CURVE or PLAIN closes here)";

export class ZmtpPushConnection {
  private readonly socket: Socket;
  private readonly events: ZmtpEvents;
  private readonly reader: ZmtpReader;
  private readonly maxUnsentBytes: number;
  private phase: "handshake" | "ready" | "closed" = "handshake";
  private tcpConnected = false;
  /** A PONG was written and its write has not completed: the next PINGs get none. */
  private pongPending = false;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private ttlTimer: NodeJS.Timeout | undefined;
  private ttlMs = 0;

  constructor(address: RelayAddress, events: ZmtpEvents, limits: Partial<ConnectionLimits> = {}) {
    const handshakeTimeoutMs = limits.handshakeTimeoutMs ?? DEFAULT_LIMITS.handshakeTimeoutMs;
    this.events = events;
    this.maxUnsentBytes = limits.maxUnsentBytes ?? DEFAULT_LIMITS.maxUnsentBytes;
    this.reader = new ZmtpReader({
      greeted: () => this.socket.write(READY),
      ready: () => this.peerReady(),
      ping: (ttlMs, context) => this.ping(ttlMs, context),
    });
    // No Nagle: a lone event must not wait for the ACK of the previous write (libzmq sets
    // TCP_NODELAY too). Keepalive, as Dynamo's own sockets do, notices a vanished host.
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
    this.socket.on("end", () => this.peerGone(new Error("connection closed by peer")));
    this.socket.on("error", (error) => this.peerGone(error));
    this.socket.on("close", () => this.peerGone(new Error("connection closed")));
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

  /** Bytes written to the socket and not yet handed to the kernel. */
  get unsentBytes(): number {
    return this.socket.writableLength;
  }

  /**
   * Writes framed messages (whole messages only); `false` when the caller should wait for `drain`.
   * On top of more unsent bytes than the cap nothing is written: the connection is dropped (after
   * this call returns, so the caller never sees a close in the middle of a write) and `done` gets
   * the error.
   */
  write(data: Buffer, done: (error?: Error | null) => void): boolean {
    const refused = this.overCap();
    if (refused !== undefined) {
      process.nextTick(done, refused);
      return false;
    }
    return this.socket.write(data, done);
  }

  /** Closes at once (linger 0); no event follows. Pending writes complete with an error. */
  destroy(): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.ttlTimer);
    this.ttlTimer = undefined;
    this.socket.destroy();
  }

  /** Closes and reports it (once). */
  private finish(error: Error | undefined): void {
    if (this.phase === "closed") return;
    this.destroy();
    this.events.close(error);
  }

  /** The socket ended or failed: a close in the middle of the peer's greeting gets its own diagnosis. */
  private peerGone(error: Error): void {
    this.finish(this.reader.inGreeting ? new ZmtpError(CLOSED_IN_GREETING) : error);
  }

  /**
   * Whatever we write on top of this many unsent bytes would only pile up: the pump waits for
   * `drain` and sends at most one PONG at a time, so only a peer that stopped reading gets here.
   * Returns the error the connection is being dropped with, if it is.
   */
  private overCap(): Error | undefined {
    if (this.phase === "closed" || this.socket.writableLength <= this.maxUnsentBytes) return undefined;
    const error = new ZmtpError(`peer is not reading: over ${this.maxUnsentBytes} bytes unsent, connection dropped`);
    process.nextTick(() => this.finish(error));
    return error;
  }

  private receive(chunk: Buffer): void {
    if (this.phase === "closed") return;
    // 37/ZMTP "Connection Heartbeating": any traffic is a sign of life.
    this.ttlTimer?.refresh();
    try {
      this.reader.push(chunk);
    } catch (error) {
      this.finish(error as Error);
    }
  }

  private peerReady(): void {
    if (this.phase !== "handshake") return;
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.phase = "ready";
    this.events.ready();
  }

  /**
   * 37/ZMTP "Connection Heartbeating": we MUST answer PONG echoing the context. Dynamo's PULL
   * pings every 5 s and drops a peer it has not heard from for 15 s (ai-dynamo/dynamo
   * lib/llm/src/utils/zmq.rs). While a PONG waits to be flushed, later PINGs get none: that PONG
   * tells the peer we are alive once it reads, and a PING flood from a peer that does not read
   * costs one PONG, not one per PING (docs/relay.md "Caps"). A non-zero TTL
   * tells us to consider the connection dead after that long without traffic from the peer.
   */
  private ping(ttlMs: number, context: Buffer): void {
    if (this.phase === "closed") return;
    if (!this.pongPending) {
      this.pongPending = true;
      if (this.overCap() === undefined) this.socket.write(pong(context), () => (this.pongPending = false));
    }
    // Unchanged TTL: `receive` already restarted the timer for this traffic.
    if (ttlMs === 0 || ttlMs === this.ttlMs) return;
    this.ttlMs = ttlMs;
    clearTimeout(this.ttlTimer);
    this.ttlTimer = setTimeout(() => this.finish(new Error(`no traffic from the peer within its heartbeat TTL (${ttlMs} ms)`)), ttlMs);
    this.ttlTimer.unref();
  }
}

/** Reconnect backoff while Dynamo is unreachable (no completed connection). */
const RETRY_MIN_MS = 10;
const RETRY_MAX_MS = 250;

export interface LinkEvents {
  /** The connection completed its handshake. */
  ready(): void;
  /** The connection takes writes again. */
  drain(): void;
  /** The connection is gone; `true` asks for another one after the backoff (then `retry`). */
  closed(): boolean;
  /** The backoff wait is over: `connect` when there is still something to send. */
  retry(): void;
  /** The peer broke the protocol or a cap (the message names the cause): worth one log line per cause. */
  fault(error: ZmtpError): void;
}

/** One connection to Dynamo's PULL at a time: connect on demand, reconnect with backoff, count handshakes and peer faults. */
export class PushLink {
  /** Connections that completed the handshake. */
  handshakes = 0;
  /** Connections closed because of the peer (protocol error, oversized frame, unsent-byte cap, closed in the greeting). */
  faults = 0;
  private readonly address: RelayAddress;
  private readonly events: LinkEvents;
  private current: ZmtpPushConnection | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;

  constructor(address: RelayAddress, events: LinkEvents) {
    this.address = address;
    this.events = events;
  }

  /** The connection, handshaking or ready; `undefined` between connections. */
  get connection(): ZmtpPushConnection | undefined {
    return this.current;
  }

  /** Waiting out the backoff before the next attempt. */
  get waiting(): boolean {
    return this.retryTimer !== undefined;
  }

  /** Opens a connection; throws when `node:net` refuses the address outright. */
  connect(): void {
    const connection: ZmtpPushConnection = new ZmtpPushConnection(
      this.address,
      {
        ready: () => {
          if (this.current !== connection) return;
          this.handshakes++;
          this.retryMs = RETRY_MIN_MS;
          this.events.ready();
        },
        drain: () => {
          if (this.current === connection) this.events.drain();
        },
        close: (error) => {
          if (this.current !== connection) return;
          this.current = undefined;
          // A peer that is not a usable PULL is worth a line; a refused or dropped connection is
          // what "Dynamo not running" looks like, reported by the caller's flush, not here.
          if (error instanceof ZmtpError) {
            this.faults++;
            this.events.fault(error);
          }
          if (this.events.closed()) this.retryLater();
        },
      },
    );
    this.current = connection;
  }

  /** Ends the backoff wait: the next `connect` may happen right away. */
  hurry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Closes the connection without lingering; no event follows. */
  close(): void {
    this.hurry();
    this.current?.destroy();
    this.current = undefined;
  }

  private retryLater(): void {
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.events.retry();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }
}
