// The OTLP exporter reads OTEL_EXPORTER_OTLP_* itself; the plugin passes only what its own config set
// (docs/settings.md). Checked on the options and on what reaches a collector.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.ts";
import { createTracing, type Tracing } from "../../src/trace/export.ts";
import { otlpExporterOptions } from "../../src/trace/otlp-exporter.ts";

const log = { warn() {}, info() {} };
const OTEL_VARS = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_TIMEOUT"];

let tracing: Tracing | undefined;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await tracing?.shutdown(300);
  tracing = undefined;
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Sets `vars` in process.env (what the exporter reads) until the test ends. */
function setProcessEnv(vars: Record<string, string>): Record<string, string> {
  const saved = Object.fromEntries(OTEL_VARS.map((name) => [name, process.env[name]]));
  for (const name of OTEL_VARS) delete process.env[name];
  Object.assign(process.env, vars);
  cleanups.push(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  return vars;
}

async function collector(): Promise<{ base: string; received: { path: string; headers: IncomingHttpHeaders }[] }> {
  const received: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

function exportOneSpan(t: Tracing): Promise<"flushed" | "timeout"> {
  t.tracer.startSpan("s").end();
  return t.flush(3_000);
}

describe("otlpExporterOptions", () => {
  it("passes nothing the environment set: the exporter reads it itself", () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_HEADERS: "a=1", OTEL_EXPORTER_OTLP_TIMEOUT: "5000" };
    expect(otlpExporterOptions(loadConfig({}, env).config)).toEqual({});
  });

  it("passes what the plugin config set", () => {
    const { config } = loadConfig({ otlpEndpoint: "http://cfg:4318/v1/traces", otlpHeaders: { b: "2" }, otlpTimeoutMs: 700 }, { OTEL_EXPORTER_OTLP_HEADERS: "a=1" });
    expect(otlpExporterOptions(config)).toEqual({ url: "http://cfg:4318/v1/traces", headers: { a: "1", b: "2" }, timeoutMillis: 700 });
  });

  it("adds x-project-name for Phoenix unless a header (env or config, any case) names it", () => {
    expect(otlpExporterOptions(loadConfig({ phoenixProject: "p" }, {}).config)).toEqual({ headers: { "x-project-name": "p" } });
    expect(otlpExporterOptions(loadConfig({ phoenixProject: "p" }, { OTEL_EXPORTER_OTLP_HEADERS: "X-Project-Name=q" }).config)).toEqual({});
  });
});

describe("the exporter reads OTEL_EXPORTER_OTLP_* from the environment", () => {
  it("endpoint (+ /v1/traces) and headers from env reach the collector", async () => {
    const sink = await collector();
    const env = setProcessEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.base, OTEL_EXPORTER_OTLP_HEADERS: "x-env=from-env" });
    tracing = createTracing(loadConfig({}, env).config, log);
    expect(await exportOneSpan(tracing)).toBe("flushed");
    expect(sink.received.map((r) => [r.path, r.headers["x-env"]])).toEqual([["/v1/traces", "from-env"]]);
    expect(tracing.exporter).toMatchObject({ enabled: true, exported: 1, failed: 0 });
  });

  it("plugin config wins: its endpoint is used and its headers are added to the env ones", async () => {
    const sink = await collector();
    const env = setProcessEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:9/v1/traces", OTEL_EXPORTER_OTLP_HEADERS: "x-env=1,x-both=env" });
    tracing = createTracing(loadConfig({ otlpEndpoint: `${sink.base}/custom`, otlpHeaders: { "x-both": "cfg" } }, env).config, log);
    expect(await exportOneSpan(tracing)).toBe("flushed");
    expect(sink.received.map((r) => [r.path, r.headers["x-env"], r.headers["x-both"]])).toEqual([["/custom", "1", "cfg"]]);
  });
});
