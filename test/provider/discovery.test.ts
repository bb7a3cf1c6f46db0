// Model discovery: GET <base>/models with a bounded wait (SPEC §6).
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DISCOVERY_TIMEOUT_MS, discoverModels } from "../../src/provider/discovery.ts";
import { startSimulator, type Simulator } from "../sim/index.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ models: ["Qwen/Qwen3-0.6B", "mock-model"] });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.clear();
  sim.faults.reset();
});

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

/** An HTTP server answering every request with `status` and `body`. */
async function answering(status: number, body: string, contentType = "application/json"): Promise<string> {
  const server: HttpServer = createHttpServer((_req, res) => {
    res.writeHead(status, { "content-type": contentType });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

describe("discoverModels", () => {
  it("lists the frontend's models and sends the bearer key", async () => {
    expect(await discoverModels(sim.baseUrl, "sk-test")).toEqual({ ok: true, modelIds: ["Qwen/Qwen3-0.6B", "mock-model"] });
    expect(sim.requests).toHaveLength(1);
    expect(sim.requests[0]).toMatchObject({ method: "GET", path: "/v1/models", status: 200 });
    expect(sim.requests[0]!.headers.authorization).toBe("Bearer sk-test");
    expect(sim.requests[0]!.headers.accept).toBe("application/json");
  });

  it("drops duplicate, empty and non-string ids", async () => {
    const base = await answering(200, JSON.stringify({ object: "list", data: [{ id: "a" }, { id: "a" }, { id: " " }, { id: 3 }, null, { id: "b" }] }));
    expect(await discoverModels(base, "k")).toEqual({ ok: true, modelIds: ["a", "b"] });
  });

  it("accepts an empty list", async () => {
    const base = await answering(200, JSON.stringify({ object: "list", data: [] }));
    expect(await discoverModels(base, "k")).toEqual({ ok: true, modelIds: [] });
  });

  it("reports an HTTP error status", async () => {
    const base = await answering(503, '{"error":"starting"}');
    expect(await discoverModels(base, "k")).toEqual({ ok: false, reason: "HTTP 503" });
    const unauthorized = await answering(401, '{"error":"unauthorized"}');
    expect(await discoverModels(unauthorized, "k")).toEqual({ ok: false, reason: "HTTP 401" });
  });

  it("reports an answer that is not JSON", async () => {
    sim.faults.models("garbage");
    expect(await discoverModels(sim.baseUrl, "k")).toEqual({ ok: false, reason: "the answer is not JSON" });
  });

  it("reports JSON without a data list", async () => {
    const base = await answering(200, '{"models":["a"]}');
    expect(await discoverModels(base, "k")).toEqual({ ok: false, reason: "the answer has no `data` list" });
    const nullBody = await answering(200, "null");
    expect(await discoverModels(nullBody, "k")).toEqual({ ok: false, reason: "the answer has no `data` list" });
  });

  it("reports a dropped connection", async () => {
    sim.faults.models("down");
    expect(await discoverModels(sim.baseUrl, "k")).toEqual({ ok: false, reason: "UND_ERR_SOCKET" });
  });

  it("gives up after timeoutMs when the server accepts and never answers", async () => {
    const sockets = new Set<Socket>();
    const server: NetServer = createNetServer((socket) => {
      sockets.add(socket);
      socket.on("data", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    );
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    expect(await discoverModels(base, "k", 100)).toEqual({ ok: false, reason: "no answer within 100 ms" });
    expect(sockets.size).toBe(1);
  });

  it("reports a refused connection by its code", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createNetServer();
      server.listen(0, "127.0.0.1", () => {
        const { port: p } = server.address() as AddressInfo;
        server.close(() => resolve(p));
      });
    });
    expect(await discoverModels(`http://127.0.0.1:${port}/v1`, "k", 1_000)).toEqual({ ok: false, reason: "ECONNREFUSED" });
  });

  it("uses an injected fetch and the 2 s default bound", async () => {
    expect(DISCOVERY_TIMEOUT_MS).toBe(2_000);
    const seen: Array<{ url: string; signal: AbortSignal | undefined }> = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      seen.push({ url, signal: init.signal ?? undefined });
      return new Response(JSON.stringify({ data: [{ id: "m" }] }), { status: 200 });
    }) as unknown as typeof fetch;
    expect(await discoverModels("http://dynamo.invalid/v1", "k", undefined, fetchImpl)).toEqual({ ok: true, modelIds: ["m"] });
    expect(seen.map((entry) => entry.url)).toEqual(["http://dynamo.invalid/v1/models"]);
    expect(seen[0]!.signal).toBeInstanceOf(AbortSignal);
  });
});

describe("the provider's catalog (docs/identity.md: /models goes where the model requests go)", () => {
  it("asks OpenClaw's resolved models.providers.dynamo.baseUrl with the resolved key, not only DYNAMO_BASE_URL", async () => {
    const { createDynamoProvider } = await import("../../src/provider/provider.ts");
    const { loadConfig } = await import("../../src/config.ts");
    // The plugin's own setting points elsewhere (nothing listens there).
    const { config } = loadConfig({ baseUrl: "http://127.0.0.1:9/v1" }, {});
    const provider = createDynamoProvider(() => ({ config, tree: undefined, sessions: undefined, protocols: undefined, warnOnce: () => {} }));
    const catalog = (provider as unknown as { catalog: { run(ctx: unknown): Promise<{ provider: { baseUrl: string; models: Array<{ id: string }> } }> } }).catalog;
    const result = await catalog.run({
      config: { models: { providers: { dynamo: { baseUrl: `${sim.baseUrl}/` } } } },
      env: {},
      resolveProviderApiKey: () => ({ apiKey: "sk-from-auth-profile" }),
    });
    expect(result.provider.baseUrl).toBe(sim.baseUrl);
    expect(result.provider.models.map((m) => m.id)).toEqual(["Qwen/Qwen3-0.6B", "mock-model"]);
    const models = sim.requests.filter((r) => r.kind === "models");
    expect(models).toHaveLength(1);
    expect(models[0]!.headers.authorization).toBe("Bearer sk-from-auth-profile");
  });
});
