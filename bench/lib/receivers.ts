/**
 * The benchmark's sinks, run in their own process (forked with IPC) so that their CPU is never
 * counted as the plugin's and they never share the measured process's event loop:
 *
 *  - a ZeroMQ PULL bound on 127.0.0.1 that only counts messages (3 frames each, as Dynamo expects),
 *    in two implementations: zeromq.js (`zmqEndpoint`), and a minimal ZMTP 3.0 PULL written on
 *    `node:net` (`fastZmqEndpoint`) that parses whole TCP reads at once. zeromq.js hands each
 *    message to JavaScript through its own promise (a few µs per message on this machine), which
 *    would make the counter, not the sender, the limit of a throughput figure; Dynamo's PULL is
 *    native libzmq. Both count into the same totals;
 *  - a minimal OTLP/HTTP receiver that reads each body, discards it and answers 200 with an empty
 *    protobuf body: a stand-in for a collector that keeps up. (The simulator's receiver decodes
 *    every span, which would put a decoder, not a collector, on this 2-core machine.) Mode `hang`
 *    accepts connections and bodies but never answers.
 *
 * IPC protocol (parent → child): `{type: "stats"}`, `{type: "wait", relay: n, timeoutMs}`,
 * `{type: "reset"}`, `{type: "otlpMode", mode}`, `{type: "close"}`; every request carries an `id`
 * that the reply echoes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { Pull } from "zeromq";

export interface ReceiverStats {
  relayMessages: number;
  relayBadFrames: number;
  /** Wall clock (ms, sub-ms precision) of the first and latest relay message since the last reset. */
  relayFirstAt: number;
  relayLastAt: number;
  otlpRequests: number;
  otlpBytes: number;
}

export type ReceiverRequest =
  | { id: number; type: "stats" }
  | { id: number; type: "reset" }
  | { id: number; type: "wait"; relay: number; timeoutMs: number }
  | { id: number; type: "otlpMode"; mode: "ok" | "hang" }
  | { id: number; type: "close" };

export const wallNow = (): number => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const stats: ReceiverStats = { relayMessages: 0, relayBadFrames: 0, relayFirstAt: 0, relayLastAt: 0, otlpRequests: 0, otlpBytes: 0 };
  let otlpMode: "ok" | "hang" = "ok";
  const hanging = new Set<ServerResponse>();
  let waiter: { target: number; resolve: () => void } | undefined;

  const pull = new Pull({ linger: 0, receiveHighWaterMark: 0 });
  await pull.bind("tcp://127.0.0.1:0");
  const count = (frames: Buffer[] | number) => {
    if ((typeof frames === "number" ? frames : frames.length) !== 3) stats.relayBadFrames++;
    const now = wallNow();
    if (stats.relayMessages === 0) stats.relayFirstAt = now;
    stats.relayLastAt = now;
    stats.relayMessages++;
    if (waiter && stats.relayMessages >= waiter.target) {
      const w = waiter;
      waiter = undefined;
      w.resolve();
    }
  };
  // Counting must outrun the sender, or the benchmark measures this process. With
  // `receiveTimeout: 0` zeromq.js receives synchronously (the returned promise is already
  // settled), so while `readable` says a message is waiting, receives are issued back to back
  // and awaited together; when the socket runs dry, one blocking receive waits for the next.
  void (async () => {
    const BATCH = 512;
    try {
      while (!pull.closed) {
        pull.receiveTimeout = 0;
        const batch: Promise<Buffer[]>[] = [];
        while (batch.length < BATCH && pull.readable) batch.push(pull.receive());
        for (const settled of await Promise.allSettled(batch)) {
          if (settled.status === "fulfilled") count(settled.value);
        }
        if (batch.length < BATCH && !pull.closed) {
          pull.receiveTimeout = -1;
          count(await pull.receive());
        }
      }
    } catch {
      // closed
    }
  })();

  const zmtp = await startZmtpPull(count);

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let bytes = 0;
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on("end", () => {
      stats.otlpRequests++;
      stats.otlpBytes += bytes;
      if (otlpMode === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(200, { "content-type": "application/x-protobuf", "content-length": 0 });
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;

  const reply = (message: object) => process.send?.(message);
  process.on("message", (raw: ReceiverRequest) => {
    switch (raw.type) {
      case "stats":
        reply({ id: raw.id, stats: { ...stats } });
        break;
      case "reset":
        stats.relayMessages = 0;
        stats.relayBadFrames = 0;
        stats.relayFirstAt = 0;
        stats.relayLastAt = 0;
        stats.otlpRequests = 0;
        stats.otlpBytes = 0;
        reply({ id: raw.id, ok: true });
        break;
      case "otlpMode":
        otlpMode = raw.mode;
        if (raw.mode === "ok") {
          for (const res of hanging) res.destroy();
          hanging.clear();
        }
        reply({ id: raw.id, ok: true });
        break;
      case "wait": {
        const done = (timedOut: boolean) => reply({ id: raw.id, timedOut, stats: { ...stats } });
        if (stats.relayMessages >= raw.relay) {
          done(false);
          break;
        }
        const timer = setTimeout(() => {
          waiter = undefined;
          done(true);
        }, raw.timeoutMs);
        waiter = {
          target: raw.relay,
          resolve: () => {
            clearTimeout(timer);
            done(false);
          },
        };
        break;
      }
      case "close":
        for (const res of hanging) res.destroy();
        pull.close();
        zmtp.close();
        server.closeAllConnections();
        server.close();
        reply({ id: raw.id, ok: true });
        setTimeout(() => process.exit(0), 50).unref();
        break;
    }
  });
  process.on("disconnect", () => process.exit(0));
  reply({ type: "ready", zmqEndpoint: pull.lastEndpoint, fastZmqEndpoint: zmtp.endpoint, otlpUrl: `http://127.0.0.1:${port}/v1/traces` });
}

/**
 * A ZeroMQ PULL peer speaking ZMTP 3.0 with the NULL mechanism (rfc.zeromq.org/spec/23) on a plain
 * TCP server: greeting, READY with `Socket-Type: PULL`, then message frames, counted per message
 * (`onMessage(frameCount)`). It only ever reads, so a PUSH peer sees an ordinary PULL.
 */
async function startZmtpPull(onMessage: (frames: number) => void): Promise<{ endpoint: string; close(): void }> {
  const greeting = Buffer.alloc(64);
  greeting[0] = 0xff;
  greeting[9] = 0x7f;
  greeting[10] = 3; // version 3.0
  greeting[11] = 0;
  greeting.write("NULL", 12, "ascii");
  const ready = (() => {
    const name = Buffer.from("\x05READY", "latin1");
    const key = Buffer.from("Socket-Type", "ascii");
    const value = Buffer.from("PULL", "ascii");
    const body = Buffer.concat([name, Buffer.from([key.length]), key, Buffer.alloc(4), value]);
    body.writeUInt32BE(value.length, name.length + 1 + key.length);
    return Buffer.concat([Buffer.from([0x04, body.length]), body]);
  })();
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.write(Buffer.concat([greeting, ready]));
    let pending: Buffer | undefined;
    let greeted = false;
    let frames = 0;
    socket.on("data", (chunk: Buffer) => {
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = undefined;
      let at = 0;
      if (!greeted) {
        if (buf.length < 64) {
          pending = buf;
          return;
        }
        if (buf[0] !== 0xff || buf[9] !== 0x7f) {
          socket.destroy();
          return;
        }
        greeted = true;
        at = 64;
      }
      const end = buf.length;
      while (at < end) {
        const flags = buf[at] as number;
        let size: number;
        let body: number;
        if (flags & 0x02) {
          if (at + 9 > end) break;
          size = Number(buf.readBigUInt64BE(at + 1));
          body = at + 9;
        } else {
          if (at + 2 > end) break;
          size = buf[at + 1] as number;
          body = at + 2;
        }
        if (body + size > end) break;
        at = body + size;
        if (flags & 0x04) continue; // command (READY, …)
        frames++;
        if ((flags & 0x01) === 0) {
          onMessage(frames);
          frames = 0;
        }
      }
      if (at < end) pending = Buffer.from(buf.subarray(at));
      buf = Buffer.alloc(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `tcp://127.0.0.1:${port}`,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

await main();
