/**
 * `npm run demo` end to end: `node demo/run.ts` (what the npm script runs after building) with the
 * simulated Dynamo 1.3+, the real openclaw CLI and a Gateway, plus `--otlp-endpoint` pointing at a
 * stand-in collector (so the "send it to your Jaeger/Phoenix" path is covered in the same run).
 * Checks the waterfall, both output files, the forwarded exports, and that nothing is left behind.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { parseDemoArgs, tracesUrl, UsageError } from "../../demo/args.ts";
import { decodeJsonSpans, decodeProtobufSpans, type OtlpSpan } from "../sim/index.ts";
import { E2E_ROOT, pluginLoadPath, REPO_ROOT } from "./harness/index.ts";

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const dir = join(E2E_ROOT, `demo-${randomBytes(4).toString("hex")}`);
const outDir = join(dir, "out");
const tmpDir = join(dir, "tmp");
let collector: Server;
const received: Received[] = [];
let result: { exitCode: number | null; stdout: string; stderr: string; durationMs: number };
let otlp: { resourceSpans: Array<{ resource?: unknown; scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> };
let perfetto: { traceEvents: Array<Record<string, unknown>> };
let keepDir = process.env.OPENCLAW_E2E_KEEP === "1";

function runDemo(args: string[], timeoutMs: number): Promise<typeof result> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [join(REPO_ROOT, "demo", "run.ts"), ...args], {
      cwd: dir,
      // The demo builds OpenClaw's environment from an allow-list itself; TMPDIR is where its throwaway directory goes.
      env: { ...process.env, TMPDIR: tmpDir, NO_COLOR: "1", VITEST: undefined, NODE_ENV: undefined },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // SIGINT is the demo's own cleanup path (as with Ctrl-C).
    const timer = setTimeout(() => child.kill("SIGINT"), timeoutMs);
    child.on("close", (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}

beforeAll(async () => {
  mkdirSync(tmpDir, { recursive: true });
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  const port = (collector.address() as AddressInfo).port;
  result = await runDemo(
    [
      "--out",
      outDir,
      // A fresh build of the checkout's src/ (see harness/plugin-source.ts).
      "--plugin-dir",
      pluginLoadPath(),
      "--otlp-endpoint",
      `http://127.0.0.1:${port}`,
      "--otlp-header",
      "x-project-name=demo-test",
    ],
    360_000,
  );
  if (existsSync(join(outDir, "trace.otlp.json"))) otlp = JSON.parse(readFileSync(join(outDir, "trace.otlp.json"), "utf8")) as typeof otlp;
  if (existsSync(join(outDir, "trace.perfetto.json"))) perfetto = JSON.parse(readFileSync(join(outDir, "trace.perfetto.json"), "utf8")) as typeof perfetto;
}, 420_000);

afterAll(async () => {
  console.log(`demo e2e: ${result?.durationMs} ms\n--- demo stdout ---\n${result?.stdout}\n--- demo stderr ---\n${result?.stderr}`);
  await new Promise((resolve) => collector?.close(resolve));
  // On failure the demo keeps its OpenClaw directory (logs) under tmp/; keep ours around it too.
  if (keepDir) console.log(`demo e2e: kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "");
const stdoutLines = () => plain(result.stdout).split("\n");

describe("npm run demo", () => {
  beforeEach(() => {
    onTestFailed(() => {
      keepDir = true;
    });
  });

  it("exits 0 and reports every step on stderr", () => {
    expect(result.exitCode, result.stderr).toBe(0);
    for (const step of ["simulator", "Gateway", "Lead agent", "Subagent and announce", "dynamo.status", "Stopping the Gateway"]) {
      expect(result.stderr, step).toMatch(new RegExp(`✓ .*${step}`));
    }
  });

  it("prints one trace as a waterfall with every span of the scenario", () => {
    const text = plain(result.stdout);
    expect(text.match(/^Trace [0-9a-f]{32} /gm), "exactly one trace").toHaveLength(1);
    for (const name of [
      "invoke_agent main (lead)",
      "invoke_agent main (subagent)",
      "invoke_agent main (announce)",
      "execute_tool sessions_spawn",
      "execute_tool exec",
      "execute_tool read ✗",
    ]) {
      expect(text, name).toContain(name);
    }
    expect(stdoutLines().filter((line) => /execute_tool read\b/.test(line)).length).toBeGreaterThanOrEqual(3);
    // Timing bars on span lines.
    expect(stdoutLines().filter((line) => /(AGENT|LLM|TOOL)\s+ *[█▏▎▍▌▋▊▉]/.test(line)).length).toBeGreaterThanOrEqual(14);
  });

  it("shows the x-request-id of each model call and Dynamo's answer to it", () => {
    const traceId = /^Trace ([0-9a-f]{32})/m.exec(plain(result.stdout))![1]!;
    const ids = stdoutLines().filter((line) => line.includes("x-request-id ") && !line.startsWith("Dynamo ids"));
    const chats = stdoutLines().filter((line) => /chat mock-model\s+LLM/.test(line));
    expect(chats.length).toBeGreaterThanOrEqual(8);
    expect(ids).toHaveLength(chats.length);
    for (const line of ids) expect(line).toMatch(new RegExp(`x-request-id ${traceId}-[0-9a-f]{16}`));
    expect(plain(result.stdout)).toContain("→ Dynamo 400");
    expect(plain(result.stdout)).toMatch(/session-final request/);
    // Each chat line is followed by its serving line: TTFT and the cache reads the simulator reported.
    const serving = stdoutLines().filter((line) => /\bTTFT \d/.test(line));
    expect(serving).toHaveLength(chats.length);
    for (const line of serving) expect(line).toMatch(/cache read \d+ tokens \(\d+ %\)/);
  });

  it("matches every relay record to its tool span, and the exec command saw its own span in TRACEPARENT", () => {
    const relayLines = stdoutLines().filter((line) => line.includes("✓ relay → Dynamo:"));
    const toolLines = stdoutLines().filter((line) => /execute_tool \S+.*\bTOOL\b/.test(line));
    expect(toolLines.length).toBeGreaterThanOrEqual(5);
    expect(relayLines).toHaveLength(toolLines.length);
    expect(relayLines.filter((line) => line.includes("tool_error"))).toHaveLength(1);
    expect(plain(result.stdout)).not.toContain("no relay record matched");
    expect(plain(result.stdout)).toMatch(/Tool-event relay: (\d+) records received over ZeroMQ, \1 matched/);
    expect(plain(result.stdout)).toMatch(/TRACEPARENT=00-[0-9a-f]{32}-[0-9a-f]{16}-01 ✓ names this span/);
  });

  it("prints the plugin status from openclaw gateway call dynamo.status", () => {
    const text = plain(result.stdout);
    expect(text).toContain("Plugin status");
    expect(text).toMatch(/protocol\s+headers in use \(setting auto, 1 fallback from nvext\)/);
    expect(text).toMatch(/relay\s+\d+ sent, 0 dropped, 0 errors/);
    expect(text).toMatch(/exporter\s+http\/protobuf → .*: \d+ exported, 0 failed/);
  });

  it("writes trace.otlp.json: valid OTLP/JSON holding the whole tree", () => {
    expect(otlp, "trace.otlp.json").toBeDefined();
    const spans: OtlpSpan[] = decodeJsonSpans(Buffer.from(JSON.stringify(otlp)));
    const count = Number(/^Trace [0-9a-f]{32}\s+·\s+(\d+) spans/m.exec(plain(result.stdout))![1]);
    expect(spans).toHaveLength(count);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    for (const raw of otlp.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))) {
      expect(raw.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(raw.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(typeof raw.startTimeUnixNano).toBe("string");
    }
    const spawnSpan = spans.find((s) => s.name === "execute_tool sessions_spawn")!;
    const child = spans.find((s) => s.attributes["openclaw.run.kind"] === "subagent")!;
    expect(child.parentSpanId).toBe(spawnSpan.spanId);
    for (const chat of spans.filter((s) => s.name.startsWith("chat "))) expect(chat.attributes["dynamo.x_request_id"]).toBe(`${chat.traceId}-${chat.spanId}`);
  });

  it("writes trace.perfetto.json: Chrome trace events with a track per agent run and the Dynamo lanes", () => {
    expect(perfetto, "trace.perfetto.json").toBeDefined();
    const events = perfetto.traceEvents;
    const threadNames = events.filter((e) => e.name === "thread_name").map((e) => (e.args as { name: string }).name);
    for (const kind of ["lead", "subagent", "announce"]) expect(threadNames.some((n) => n.startsWith(`${kind} · invoke_agent`)), kind).toBe(true);
    expect(threadNames.some((n) => n.startsWith("session "))).toBe(true);
    const slices = events.filter((e) => e.ph === "X");
    expect(slices.filter((e) => e.pid === 1).length).toBe(otlp.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).length);
    for (const slice of slices) {
      expect(Number.isInteger(slice.ts)).toBe(true);
      expect(slice.dur as number).toBeGreaterThan(0);
    }
    const tools = slices.filter((e) => e.pid === 1 && e.cat === "TOOL");
    expect(events.filter((e) => e.ph === "i" && e.cat === "relay")).toHaveLength(2 * tools.length);
    expect(events.some((e) => e.ph === "s" && e.name === "subagent")).toBe(true);
    // Every streamed chat span marks where generation began.
    const chats = slices.filter((e) => e.pid === 1 && e.cat === "LLM" && (e.args as Record<string, unknown>)["gen_ai.request.stream"] === true);
    const firstTokens = events.filter((e) => e.ph === "i" && e.cat === "serving" && e.name === "first token");
    expect(chats.length).toBeGreaterThan(0);
    expect(firstTokens).toHaveLength(chats.length);
    for (const instant of firstTokens) {
      const chat = chats.find((c) => c.tid === instant.tid && (c.ts as number) <= (instant.ts as number) && (instant.ts as number) <= (c.ts as number) + (c.dur as number));
      expect(chat, JSON.stringify(instant)).toBeDefined();
    }
  });

  it("forwards the plugin's protobuf exports unchanged to --otlp-endpoint, with --otlp-header", () => {
    expect(received.length).toBeGreaterThan(0);
    for (const request of received) {
      expect(request.headers["content-type"]).toBe("application/x-protobuf");
      expect(request.headers["x-project-name"]).toBe("demo-test");
    }
    const forwarded = received.flatMap((r) => decodeProtobufSpans(r.body));
    expect(forwarded.map((s) => s.spanId).sort()).toEqual(otlp.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).map((s) => String(s.spanId)).sort());
    expect(plain(result.stdout)).toMatch(/✓ \d+ OTLP exports? forwarded to http:\/\/127\.0\.0\.1:\d+\/v1\/traces, all accepted/);
  });

  it("leaves nothing behind: its throwaway OpenClaw directory is gone and no process runs from it", () => {
    expect(readdirSync(tmpDir).filter((name) => name.startsWith("openclaw-dynamo-demo-"))).toEqual([]);
    if (process.platform !== "linux") return;
    const leftovers = readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .filter((pid) => {
        try {
          return readlinkSync(`/proc/${pid}/cwd`).startsWith(tmpDir);
        } catch {
          return false;
        }
      });
    expect(leftovers).toEqual([]);
  });
});

describe("demo options", () => {
  it("maps --dynamo to the simulated generation and validates the rest", () => {
    expect(parseDemoArgs([]).generation).toBe("headers");
    expect(parseDemoArgs(["--dynamo", "1.2"]).generation).toBe("nvext");
    expect(parseDemoArgs(["--dynamo", "1.6"]).generation).toBe("headers");
    expect(parseDemoArgs(["--base-url", "http://127.0.0.1:8000", "--model", "Qwen/Qwen3-0.6B"])).toMatchObject({
      baseUrl: "http://127.0.0.1:8000",
      model: "Qwen/Qwen3-0.6B",
      outDir: "demo-output",
    });
    expect(() => parseDemoArgs(["--dynamo", "latest"])).toThrow(UsageError);
    expect(() => parseDemoArgs(["--protocol", "grpc"])).toThrow(UsageError);
    expect(() => parseDemoArgs(["--zmq-endpoint", "127.0.0.1:20390"])).toThrow(UsageError);
    expect(() => parseDemoArgs(["--otlp-header", "novalue"])).toThrow(UsageError);
  });

  it("appends /v1/traces to a bare collector origin only", () => {
    expect(tracesUrl("http://localhost:4318")).toBe("http://localhost:4318/v1/traces");
    expect(tracesUrl("http://localhost:6006/")).toBe("http://localhost:6006/v1/traces");
    expect(tracesUrl("http://collector:4318/custom/traces")).toBe("http://collector:4318/custom/traces");
  });
});
