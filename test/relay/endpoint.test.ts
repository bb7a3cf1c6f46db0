import { describe, expect, it } from "vitest";
import { parseEndpoint } from "../../src/relay/endpoint.ts";

describe("parseEndpoint", () => {
  it.each([
    ["tcp://127.0.0.1:5555", { host: "127.0.0.1", port: 5555 }],
    ["tcp://dynamo-frontend.svc.cluster.local:20390", { host: "dynamo-frontend.svc.cluster.local", port: 20390 }],
    ["tcp://localhost:1", { host: "localhost", port: 1 }],
    ["tcp://[::1]:65535", { host: "::1", port: 65535 }],
    ["tcp://[fe80::1%eth0]:5555", { host: "fe80::1%eth0", port: 5555 }],
    ["TCP://127.0.0.1:5555", { host: "127.0.0.1", port: 5555 }],
    ["ipc:///tmp/dynamo/tool-events.sock", { path: "/tmp/dynamo/tool-events.sock" }],
    ["ipc://relative/tool-events.sock", { path: "relative/tool-events.sock" }],
  ])("%s", (endpoint, expected) => {
    expect(parseEndpoint(endpoint)).toEqual(expected);
  });

  it.runIf(process.platform === "linux")("maps ipc://@name to Linux's abstract namespace, as libzmq does", () => {
    expect(parseEndpoint("ipc://@dynamo-tools")).toEqual({ path: "\0dynamo-tools" });
  });

  it.each([
    ["not-an-endpoint", /not a ZeroMQ endpoint/],
    ["tcp//127.0.0.1:5555", /not a ZeroMQ endpoint/],
    ["udp://127.0.0.1:5555", /udp:\/\/ is not supported/],
    ["pgm://eth0;239.192.1.1:5555", /pgm:\/\/ is not supported/],
    ["inproc://tools", /inproc:\/\/ endpoints exist only inside one libzmq process/],
    ["tcp://127.0.0.1", /without a port/],
    ["tcp://127.0.0.1:0", /invalid tcp port "0"/],
    ["tcp://127.0.0.1:65536", /invalid tcp port/],
    ["tcp://127.0.0.1:http", /invalid tcp port/],
    ["tcp://*:5555", /invalid tcp host "\*": tcp:\/\/\*:5555 is how Dynamo binds; connect to tcp:\/\/127\.0\.0\.1:5555/],
    ["tcp://10.0.0.1;127.0.0.1:5555", /invalid tcp host/],
    ["tcp://:5555", /invalid tcp host ""/],
    ["tcp://::1:5555", /invalid tcp host/],
    ["tcp://[not-v6]:5555", /invalid IPv6 address/],
    ["ipc://", /invalid ipc path/],
    ["ipc:///tmp/a\nb", /invalid ipc path/],
    [`ipc:///tmp/${"x".repeat(200)}.sock`, /ipc path too long \(\d+ bytes; at most 10[37]\)/],
  ])("rejects %j", (endpoint, message) => {
    expect(() => parseEndpoint(endpoint)).toThrow(message);
  });
});
