// Test helpers: a raw TCP server standing in for Dynamo's PULL at the byte level (to script
// malformed, hostile or heartbeating peers), and the ZMTP pieces to build what it sends.
import { Buffer } from "node:buffer";
import { createServer, type Server, type Socket } from "node:net";

/** A 64-byte ZMTP greeting (rfc.zeromq.org/spec/37): signature, version, mechanism, as-server, filler. */
export function greeting({ major = 3, minor = 1, mechanism = "NULL" }: { major?: number; minor?: number; mechanism?: string } = {}): Buffer {
  const bytes = Buffer.alloc(64);
  bytes[0] = 0xff;
  bytes[9] = 0x7f;
  bytes[10] = major;
  bytes[11] = minor;
  bytes.write(mechanism, 12, "latin1");
  return bytes;
}

/** A short command frame: flags 0x04, size, name size, name, data. */
export function command(name: string, data: Uint8Array = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([0x04, 1 + name.length + data.length, name.length]), Buffer.from(name, "latin1"), data]);
}

export function ready(socketType: string): Buffer {
  const key = Buffer.from("Socket-Type", "latin1");
  const size = Buffer.alloc(4);
  size.writeUInt32BE(socketType.length);
  return command("READY", Buffer.concat([Buffer.from([key.length]), key, size, Buffer.from(socketType, "latin1")]));
}

export function ping(ttlTenths: number, context: string): Buffer {
  const ttl = Buffer.alloc(2);
  ttl.writeUInt16BE(ttlTenths);
  return command("PING", Buffer.concat([ttl, Buffer.from(context, "latin1")]));
}

export interface Frame {
  flags: number;
  body: Buffer;
}

/** What one client connection sent: its greeting, then its frames, parsed as they arrive. */
export class ClientStream {
  greeting: Buffer | undefined;
  readonly frames: Frame[] = [];
  private buffered = Buffer.alloc(0);

  readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.push(chunk));
    socket.on("error", () => {});
  }

  /** Message frames only (commands left out), grouped into messages. */
  messages(): Buffer[][] {
    const messages: Buffer[][] = [];
    let current: Buffer[] = [];
    for (const frame of this.frames) {
      if (frame.flags & 0x04) continue;
      current.push(frame.body);
      if ((frame.flags & 0x01) === 0) {
        messages.push(current);
        current = [];
      }
    }
    return messages;
  }

  commands(name: string): Buffer[] {
    return this.frames
      .filter((f) => f.flags & 0x04 && f.body.toString("latin1", 1, 1 + f.body[0]!) === name)
      .map((f) => f.body.subarray(1 + f.body[0]!));
  }

  private push(chunk: Buffer): void {
    let bytes = Buffer.concat([this.buffered, chunk]);
    if (this.greeting === undefined) {
      if (bytes.length < 64) {
        this.buffered = bytes;
        return;
      }
      this.greeting = bytes.subarray(0, 64);
      bytes = bytes.subarray(64);
    }
    let at = 0;
    for (;;) {
      if (bytes.length - at < 2) break;
      const flags = bytes[at]!;
      const long = (flags & 0x02) !== 0;
      const header = long ? 9 : 2;
      if (bytes.length - at < header) break;
      const size = long ? Number(bytes.readBigUInt64BE(at + 1)) : bytes[at + 1]!;
      if (bytes.length - at - header < size) break;
      this.frames.push({ flags, body: Buffer.from(bytes.subarray(at + header, at + header + size)) });
      at += header + size;
    }
    this.buffered = Buffer.from(bytes.subarray(at));
  }
}

export interface RawPeer {
  readonly endpoint: string;
  /** The TCP port (0 for a Unix socket). */
  readonly port: number;
  /** Connections accepted so far. */
  readonly clients: ClientStream[];
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 (or a Unix socket server at `ipcPath`); `onClient` scripts what each connection gets. */
export async function rawPeer(onClient: (client: ClientStream) => void, ipcPath?: string): Promise<RawPeer> {
  const clients: ClientStream[] = [];
  const server: Server = createServer((socket) => {
    const client = new ClientStream(socket);
    clients.push(client);
    onClient(client);
  });
  await new Promise<void>((resolve) => (ipcPath === undefined ? server.listen(0, "127.0.0.1", resolve) : server.listen(ipcPath, resolve)));
  const bound = ipcPath === undefined ? (server.address() as { port: number }).port : 0;
  return {
    endpoint: ipcPath === undefined ? `tcp://127.0.0.1:${bound}` : `ipc://${ipcPath}`,
    port: bound,
    clients,
    close: async () => {
      for (const client of clients) client.socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A well-behaved NULL-mechanism PULL at the byte level: greeting, then READY once the client's READY arrived. */
export function behavesAsPull(client: ClientStream, socketType = "PULL"): void {
  client.socket.write(greeting());
  const answer = (): void => {
    if (client.commands("READY").length > 0) client.socket.write(ready(socketType));
    else if (!client.socket.destroyed) setTimeout(answer, 5);
  };
  answer();
}

export async function waitFor(predicate: () => boolean, timeoutMs = 5_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A command frame of any size (the LONG form from 256 bytes), as `command` builds short ones. */
export function longCommand(name: string, data: Uint8Array): Buffer {
  const size = 1 + name.length + data.length;
  const header = size < 0x100 ? Buffer.from([0x04, size]) : Buffer.alloc(9);
  if (size >= 0x100) {
    header[0] = 0x06;
    header.writeBigUInt64BE(BigInt(size), 1);
  }
  return Buffer.concat([header, Buffer.from([name.length]), Buffer.from(name, "latin1"), data]);
}

/** Hostile peer: completes the handshake, stops reading, and floods `count` PINGs (`done` once all are in the kernel). */
export function floodPings(client: ClientStream, count: number, done: () => void): void {
  client.socket.write(greeting());
  void waitFor(() => client.commands("READY").length > 0).then(() => {
    client.socket.write(ready("PULL"));
    client.socket.pause();
    const one = ping(0, "flood-context-16");
    const all = Buffer.alloc(one.length * count);
    for (let i = 0; i < count; i++) one.copy(all, i * one.length);
    client.socket.write(all, done);
  });
}

/** Broken peer: after the handshake, sends `bytes` in `piece`-byte writes, one per `gapMs` (many small reads at the other end). */
export function drip(client: ClientStream, bytes: Buffer, piece: number, gapMs = 1): void {
  client.socket.write(greeting());
  void waitFor(() => client.commands("READY").length > 0).then(async () => {
    client.socket.write(ready("PULL"));
    for (let at = 0; at < bytes.length && !client.socket.destroyed; at += piece) {
      client.socket.write(bytes.subarray(at, at + piece));
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
  });
}
