/**
 * ZeroMQ endpoint strings the relay can connect to without libzmq (dynamo-wire §8): `tcp://host:port`
 * (IPv4, `[IPv6]`, DNS name) and `ipc://path` (a Unix domain socket; absolute, relative to the working
 * directory, or `@name` for Linux's abstract namespace, as libzmq reads them). Anything else throws
 * an Error saying why, so the transport can disable itself with one warning.
 */
import { Buffer } from "node:buffer";
import { isIP } from "node:net";

/** Where `net.connect` goes: a TCP host and port, or a Unix socket path. */
export type RelayAddress = { host: string; port: number } | { path: string };

/** Longest Unix socket path: `sun_path` holds 108 bytes on Linux, 104 on macOS/BSD, NUL included. */
const MAX_IPC_PATH_BYTES = process.platform === "linux" ? 107 : 103;
/** A DNS name or IPv4 literal: no space, control character, `:`, `/`, `[`, `]`, `;` or `*`. */
const HOST_NAME = /^[^\x00-\x20\x7f:/[\];*]+$/;

export function parseEndpoint(endpoint: string): RelayAddress {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(endpoint);
  if (scheme === null) throw new Error("not a ZeroMQ endpoint");
  const rest = endpoint.slice(scheme[0].length);
  switch (scheme[1]!.toLowerCase()) {
    case "tcp":
      return parseTcp(rest);
    case "ipc":
      return parseIpc(rest);
    case "inproc":
      throw new Error("inproc:// endpoints exist only inside one libzmq process; Dynamo needs tcp:// or ipc://");
    default:
      throw new Error(`transport ${scheme[1]}:// is not supported by the relay (tcp:// or ipc:// only)`);
  }
}

function parseTcp(rest: string): RelayAddress {
  const colon = rest.lastIndexOf(":");
  if (colon === -1) throw new Error("tcp endpoint without a port");
  const rawHost = rest.slice(0, colon);
  const rawPort = rest.slice(colon + 1);
  const port = /^\d{1,5}$/.test(rawPort) ? Number(rawPort) : NaN;
  if (!(port >= 1 && port <= 65_535)) throw new Error(`invalid tcp port ${JSON.stringify(rawPort)}`);
  if (rawHost.startsWith("[") && rawHost.endsWith("]")) {
    const host = rawHost.slice(1, -1);
    if (isIP(host) !== 6) throw new Error(`invalid IPv6 address ${JSON.stringify(host)}`);
    return { host, port };
  }
  // libzmq's `source;host` form and the bind-only `*` wildcard are not for a connecting PUSH.
  if (rawHost === "*") throw new Error(`invalid tcp host "*": tcp://*:${port} is how Dynamo binds; connect to tcp://127.0.0.1:${port}`);
  if (!HOST_NAME.test(rawHost)) throw new Error(`invalid tcp host ${JSON.stringify(rawHost)}`);
  return { host: rawHost, port };
}

function parseIpc(path: string): RelayAddress {
  if (path === "" || /[\x00-\x1f\x7f]/.test(path)) throw new Error("invalid ipc path");
  if (process.platform === "win32") throw new Error("ipc:// (Unix domain sockets) is not supported by the relay on Windows");
  // libzmq maps a leading `@` to Linux's abstract socket namespace (a leading NUL byte in sun_path).
  const socketPath = path.startsWith("@") && process.platform === "linux" ? `\0${path.slice(1)}` : path;
  const bytes = Buffer.byteLength(socketPath);
  if (bytes > MAX_IPC_PATH_BYTES) throw new Error(`ipc path too long (${bytes} bytes; at most ${MAX_IPC_PATH_BYTES})`);
  return { path: socketPath };
}
