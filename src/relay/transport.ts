/**
 * The ZeroMQ side of the relay (dynamo-wire §8): a PUSH connected to Dynamo's bound PULL, spoken
 * directly in ZMTP 3.1 on `node:net` (docs/relay.md). `send` only queues the record (it runs inside
 * a tool hook); the pump, off the agent's path, encodes queued records into 64 KiB batches of framed
 * messages (./batch.ts) and writes each batch with one `socket.write`, instead of one native send
 * per message. A backlog (a burst, or Dynamo unreachable) is held mostly encoded (./backlog.ts); the
 * connection, its caps and reconnects are ./connection.ts. Best effort and never in the way: `send`
 * is synchronous O(1), nothing here throws, and nothing keeps the Node event loop alive except an
 * explicit, bounded `flush`.
 *
 * Delivery follows libzmq's PUSH with ZMQ_IMMEDIATE: nothing leaves the queue before a connection
 * has completed its handshake, so while Dynamo is unreachable events wait in the bounded, counted
 * queue (and are retried with backoff) instead of vanishing into a pipe to nowhere. When the socket
 * buffer is full the pump waits for 'drain' and events stay queued. Messages already written when a
 * connection breaks are lost, as with libzmq, and counted as errors.
 */
import { Backlog } from "./backlog.ts";
import type { Batch } from "./batch.ts";
import { PushLink } from "./connection.ts";
import { parseEndpoint } from "./endpoint.ts";
import type { RelayCounters, RelayLogger, ToolEventRecord, ToolEventTransportOptions } from "./types.ts";

const LOST_IN_FLIGHT = "connection to Dynamo lost while events were being written; they are counted as errors";
/** Idle time after which the batch memory a burst left behind is released. */
const TRIM_AFTER_MS = 2_000;
/** Batches one pump turn encodes and writes before yielding to the event loop (~1–2 ms of work). */
const BATCHES_PER_TURN = 4;
/** Distinct failure causes logged; past this many, causes are only counted and kept in `lastError`. */
const MAX_LOGGED_CAUSES = 32;

export class ToolEventTransport {
  readonly endpoint: string;
  readonly topic: string;
  private readonly log: RelayLogger;
  private readonly capacity: number;
  /** Events waiting for the connection (bounded by `capacity` in `send`). */
  private readonly backlog: Backlog;
  private readonly counts = { enqueued: 0, sent: 0, dropped: 0, errors: 0, undelivered: 0 };
  private readonly drainWaiters = new Set<(drained: boolean) => void>();
  private state: "idle" | "open" | "disabled" | "closed" = "idle";
  /** The connection to Dynamo's PULL (with reconnects), once the endpoint has been parsed. */
  private link: PushLink | undefined;
  /** Waiting for the socket's `drain` after a write returned false. */
  private blocked = false;
  /** Messages written to the socket whose write has not completed yet. */
  private inflight = 0;
  private turnScheduled = false;
  private trimTimer: NodeJS.Timeout | undefined;
  private overflowLogged = false;
  private error: string | undefined;
  /** Causes already logged: one line per cause, however often it recurs. */
  private readonly logged = new Set<string>();

  constructor(options: ToolEventTransportOptions) {
    this.endpoint = options.endpoint;
    this.topic = options.topic;
    this.log = options.log;
    this.capacity = Math.max(1, Math.trunc(options.capacity) || 1);
    this.backlog = new Backlog(options.topic, this.capacity, (error) => {
      this.counts.errors++;
      this.note(error);
    });
  }

  /** True while a connection to Dynamo's PULL is established (handshake completed). */
  get connected(): boolean {
    return this.link?.connection?.ready === true;
  }

  /** Connections that completed the ZMTP handshake so far (a reconnect adds one). */
  get connections(): number {
    return this.link?.handshakes ?? 0;
  }

  /** Connections closed because of the peer: protocol error, oversized frame, unsent-byte cap, closed in the greeting. */
  get peerFaults(): number {
    return this.link?.faults ?? 0;
  }

  /** Last failure worth a log line (see ToolRelayStatus.lastError). */
  get lastError(): string | undefined {
    return this.error;
  }

  counters(): RelayCounters {
    return { ...this.counts, pending: this.queued() + this.inflight };
  }

  /** Queues one record for Dynamo (the pump connects on first use); `false` when it was dropped. */
  send(record: ToolEventRecord): boolean {
    if (this.state === "disabled" || this.state === "closed") {
      this.counts.dropped++;
      return false;
    }
    if (this.queued() >= this.capacity) {
      this.counts.dropped++;
      if (!this.overflowLogged) {
        this.overflowLogged = true;
        this.log.warn(
          `Dynamo tool-event relay queue is full (${this.capacity} events; Dynamo at ${this.endpoint} not keeping up or unreachable): dropping tool events, counted in status`,
        );
      }
      return false;
    }
    this.backlog.push(record);
    this.counts.enqueued++;
    this.schedule();
    return true;
  }

  /**
   * Resolves `true` once nothing is pending: every queued event has been written to the kernel
   * (its write completed) or counted as an error. `false` when `timeoutMs` passes first or the
   * relay closes. Reconnects right away if the pump was backing off.
   */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.idle()) return Promise.resolve(true);
    this.link?.hurry();
    this.schedule();
    return new Promise((resolve) => {
      // Kept referenced on purpose: a caller awaiting a flush gets the whole (bounded) wait.
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
      const done = (drained: boolean): void => {
        clearTimeout(timer);
        this.drainWaiters.delete(done);
        resolve(drained);
      };
      this.drainWaiters.add(done);
    });
  }

  /** Closes the connection without lingering; whatever is still pending is counted as `undelivered`. Idempotent. */
  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.trimTimer);
    this.counts.undelivered += this.queued() + this.inflight;
    this.backlog.clear();
    this.backlog.trim(0);
    this.inflight = 0;
    this.link?.close();
    this.settle(false);
    const { enqueued, sent, dropped, errors, undelivered } = this.counts;
    if (enqueued + dropped === 0) return;
    const line = `Dynamo tool-event relay closed: ${sent} sent, ${dropped} dropped, ${errors} errors, ${undelivered} undelivered`;
    if (dropped + errors + undelivered === 0) this.log.info(line);
    else this.log.warn(`${line} (${this.endpoint})`);
  }

  private queued(): number {
    return this.backlog.size;
  }

  private idle(): boolean {
    return this.queued() === 0 && this.inflight === 0;
  }

  private schedule(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => this.turn());
  }

  /**
   * One pump turn, off the caller's path: parse the endpoint on first use, (re)connect when there
   * is something to send, then encode queued records into batches and write each with one
   * `socket.write` (at most BATCHES_PER_TURN, then yield).
   */
  private turn(): void {
    this.turnScheduled = false;
    if (this.state === "idle") this.open();
    if (this.state !== "open") return;
    const link = this.link!;
    const connection = link.connection;
    if (connection === undefined) {
      if (!link.waiting && this.queued() > 0) this.connect(link);
      return;
    }
    // ZMQ_IMMEDIATE: nothing leaves the queue before the handshake has completed.
    for (let n = 0; n < BATCHES_PER_TURN; n++) {
      if (!connection.ready || this.blocked) return;
      const batch = this.backlog.next();
      if (batch === undefined) {
        // Nothing left to write; pending may have reached 0 through records that failed to encode.
        if (this.idle()) this.settle(true);
        return;
      }
      this.inflight += batch.count;
      // Backpressure: a full socket buffer stops the pump until `drain`; events stay in the queue.
      if (!connection.write(batch.bytes, (error) => this.written(batch, error))) this.blocked = true;
    }
    if (this.queued() > 0 && !this.blocked) this.schedule();
  }

  private open(): void {
    try {
      const address = parseEndpoint(this.endpoint);
      this.link = new PushLink(address, {
        ready: () => this.schedule(),
        drain: () => {
          this.blocked = false;
          this.schedule();
        },
        closed: () => {
          this.blocked = false;
          // Reconnect only for queued events: an idle relay does not poll a Dynamo that went away.
          return this.state === "open" && this.queued() > 0;
        },
        retry: () => this.schedule(),
        fault: (error) => this.note(error),
      });
      this.state = "open";
    } catch (error) {
      this.disable(error);
    }
  }

  /** An endpoint the relay can never reach: one warning, queued events become errors, later ones drops. */
  private disable(error: unknown): void {
    this.state = "disabled";
    this.counts.errors += this.queued();
    this.backlog.clear();
    this.error = messageOf(error);
    this.log.warn(
      `Dynamo tool-event relay disabled: cannot connect to ${JSON.stringify(this.endpoint)} (${this.error}; endpoints look like tcp://host:port or ipc:///path). Tool events are dropped and counted.`,
    );
    if (this.idle()) this.settle(true);
  }

  private connect(link: PushLink): void {
    try {
      link.connect();
    } catch (error) {
      // node:net refused the address outright (it validates more than parseEndpoint does).
      this.disable(error);
    }
  }

  /** Write completion of one batch: in the kernel (sent), or lost with its connection (errors). */
  private written(batch: Batch, error: Error | null | undefined): void {
    if (this.state === "closed") return; // counted as undelivered by close(); its memory goes to the GC
    this.backlog.recycle(batch);
    this.inflight -= batch.count;
    if (error) {
      this.counts.errors += batch.count;
      // One line for the cause, whichever of the socket's errors (ECONNRESET, EPIPE, ECANCELED…) came first.
      this.note(LOST_IN_FLIGHT);
    } else {
      this.counts.sent += batch.count;
    }
    if (this.idle()) this.drained();
  }

  private settle(drained: boolean): void {
    for (const done of this.drainWaiters) done(drained);
  }

  /** Everything written: release the burst's spare chunks if nothing more comes for a while. */
  private drained(): void {
    this.settle(true);
    if (this.trimTimer === undefined) {
      this.trimTimer = setTimeout(() => this.backlog.trim(), TRIM_AFTER_MS);
      this.trimTimer.unref();
    } else {
      this.trimTimer.refresh();
    }
  }

  /** Records a failure (`lastError`); logs it the first time its cause (message) occurs. */
  private note(error: unknown): void {
    const message = messageOf(error);
    this.error = message;
    if (this.logged.has(message) || this.logged.size >= MAX_LOGGED_CAUSES) return;
    this.logged.add(message);
    this.log.warn(`Dynamo tool-event relay to ${this.endpoint}: ${message}`);
  }
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}
