/**
 * The benchmark's sinks, run in their own process (forked with IPC) so that their CPU is never
 * counted as the plugin's and they never share the measured process's event loop:
 *
 *  - a ZeroMQ PULL bound on 127.0.0.1 that only counts messages (3 frames each, as Dynamo expects),
 *    in two implementations: zeromq.js (`zmqEndpoint`), and a minimal ZMTP 3.1 PULL written on
 *    `node:net` (`fastZmqEndpoint`) that parses whole TCP reads in place. zeromq.js hands each
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
import { Pull } from "zeromq";
import { command, greeting as zmtpGreeting, ready as zmtpReady } from "../../test/relay/zmtp-peer.ts";
import { wallNow } from "./stats.ts";

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

async function main(): Promise<void> {
  const stats: ReceiverStats = { relayMessages: 0, relayBadFrames: 0, relayFirstAt: 0, relayLastAt: 0, otlpRequests: 0, otlpBytes: 0 };
  let otlpMode: "ok" | "hang" = "ok";
  const hanging = new Set<ServerResponse>();
  let waiter: { target: number; resolve: () => void } | undefined;

  const pull = new Pull({ linger: 0, receiveHighWaterMark: 0 });
  await pull.bind("tcp://127.0.0.1:0");
  /** Adds `messages` received just now (`bad` of them not 3 frames); wakes a waiter. */
  const count = (messages: number, bad: number) => {
    const now = wallNow();
    if (stats.relayMessages === 0) stats.relayFirstAt = now;
    stats.relayLastAt = now;
    stats.relayMessages += messages;
    stats.relayBadFrames += bad;
    if (waiter && stats.relayMessages >= waiter.target) {
      const w = waiter;
      waiter = undefined;
      w.resolve();
    }
  };
  const countFrames = (frames: Buffer[]) => count(1, frames.length === 3 ? 0 : 1);
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
          if (settled.status === "fulfilled") countFrames(settled.value);
        }
        if (batch.length < BATCH && !pull.closed) {
          pull.receiveTimeout = -1;
          countFrames(await pull.receive());
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
 * A ZeroMQ PULL peer speaking ZMTP 3.1 with the NULL mechanism (rfc.zeromq.org/spec/37) on a plain
 * TCP server: it sends its greeting, checks the peer's (signature, version >= 3, mechanism NULL),
 * answers the peer's READY with `READY Socket-Type=PULL` (the NULL server's role), answers PING with
 * PONG, and counts messages (`onMessages(count, badCount)`, once per TCP read; a message is bad
 * unless it has exactly 3 frames). The stream is parsed in place, frame by frame, across reads:
 * message bodies are skipped, never copied, so counting costs a few operations per frame and this
 * process can count well over a million messages a second.
 */
async function startZmtpPull(onMessages: (count: number, bad: number) => void): Promise<{ endpoint: string; close(): void }> {
  const greeting = zmtpGreeting(); // ZMTP 3.1, NULL
  const ready = zmtpReady("PULL");
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.write(greeting);
    const peerGreeting = Buffer.alloc(64);
    let greeted = 0; // bytes of the peer's greeting received
    const header = Buffer.alloc(9);
    let headerHave = 0; // bytes of the current frame header received
    let flags = 0;
    let bodyLeft = 0; // bytes of the current frame body still to come
    let commandBody: Buffer | undefined; // a command's body being collected (commands are tiny)
    let commandHave = 0;
    let frames = 0; // frames of the current message so far
    const onCommand = (body: Buffer) => {
      const name = body.toString("latin1", 1, 1 + (body[0] ?? 0));
      if (name === "READY") socket.write(ready);
      else if (name === "PING") socket.write(command("PONG", body.subarray(1 + 4 + 2, 1 + 4 + 2 + 16)));
    };
    socket.on("data", (chunk: Buffer) => {
      let at = 0;
      const end = chunk.length;
      if (greeted < 64) {
        const n = Math.min(64 - greeted, end);
        chunk.copy(peerGreeting, greeted, 0, n);
        greeted += n;
        at = n;
        if (greeted < 64) return;
        const mechanism = peerGreeting.toString("latin1", 12, 32).replace(/\0+$/, "");
        if (peerGreeting[0] !== 0xff || (peerGreeting[9]! & 1) === 0 || peerGreeting[10]! < 3 || mechanism !== "NULL") {
          socket.destroy();
          return;
        }
      }
      let messages = 0;
      let bad = 0;
      while (at < end) {
        if (bodyLeft > 0) {
          const n = Math.min(bodyLeft, end - at);
          if (commandBody) {
            chunk.copy(commandBody, commandHave, at, at + n);
            commandHave += n;
          }
          at += n;
          bodyLeft -= n;
          if (bodyLeft > 0) break;
        } else {
          // Frame header: flags, then a 1-byte or (LONG) 8-byte big-endian size.
          let size: number;
          if (headerHave === 0 && end - at >= 9) {
            flags = chunk[at] as number;
            if (flags & 0x02) {
              size = chunk.readUInt32BE(at + 1) * 4294967296 + chunk.readUInt32BE(at + 5);
              at += 9;
            } else {
              size = chunk[at + 1] as number;
              at += 2;
            }
          } else {
            header[headerHave++] = chunk[at++] as number;
            const need = header[0]! & 0x02 ? 9 : 2;
            if (headerHave < need) continue;
            flags = header[0] as number;
            size = need === 9 ? header.readUInt32BE(1) * 4294967296 + header.readUInt32BE(5) : (header[1] as number);
            headerHave = 0;
          }
          bodyLeft = size;
          commandBody = flags & 0x04 ? Buffer.alloc(size) : undefined;
          commandHave = 0;
          if (size > 0) continue;
        }
        // A whole frame.
        if (commandBody) {
          onCommand(commandBody);
          commandBody = undefined;
          continue;
        }
        frames++;
        if ((flags & 0x01) === 0) {
          messages++;
          if (frames !== 3) bad++;
          frames = 0;
        }
      }
      if (messages > 0) onMessages(messages, bad);
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
