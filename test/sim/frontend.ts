// Simulated Dynamo HTTP frontend: OpenAI-compatible `/v1/models` and `/v1/chat/completions`, with
// per-generation identity validation, a scripted turn policy and fault injection.
import type { IncomingMessage, ServerResponse } from "node:http";
import { completionObject, estimateUsage, materialize, newCompletionId, sseData, streamChunks } from "./completion.ts";
import { defaultStatusMessage, errorBody } from "./errors.ts";
import { describeChatFault } from "./faults.ts";
import type { Faults } from "./faults.ts";
import { listenLocal, lowercaseHeaders, readBody, sleep } from "./http-util.ts";
import type { Listening } from "./http-util.ts";
import { checkIdentity } from "./identity.ts";
import { decideTurn } from "./policy.ts";
import { requestedExtraFields, responseNvext, withCachedTokens, writePacedStream, type ServingProfile } from "./serving.ts";
import type { SessionTracker } from "./sessions.ts";
import type { DynamoGeneration, ErrorBodyStyle, RecordedRequest, RequestKind } from "./types.ts";

export interface FrontendDeps {
  generation: () => DynamoGeneration;
  models: string[];
  faults: Faults;
  sessions: SessionTracker;
  requests: RecordedRequest[];
  errorBodyStyle: ErrorBodyStyle;
  /** Pacing, cache hits and `nvext` answers (./serving.ts). */
  serving: () => ServingProfile;
  log: (line: string) => void;
  /** Called once per request when its answer is complete (or the connection was dropped). */
  onRequest?: (rec: RecordedRequest) => void;
}

const CREATED = Math.floor(Date.now() / 1000);

function kindOf(method: string, path: string): RequestKind {
  if (method === "POST" && path === "/v1/chat/completions") return "chat";
  if (method === "GET" && path === "/v1/models") return "models";
  return "other";
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function finish(rec: RecordedRequest, status: number, deps: FrontendDeps, note?: string): void {
  rec.status = status;
  rec.finishedAt = Date.now();
  const detail = note ?? rec.rejection ?? rec.policy ?? "";
  deps.log(`[sim] ${rec.method} ${rec.path} -> ${status || "dropped"}${rec.fault ? ` [fault: ${rec.fault}]` : ""} ${detail}`.trimEnd());
  deps.onRequest?.(rec);
}

function handleModels(res: ServerResponse, rec: RecordedRequest, deps: FrontendDeps): void {
  const mode = deps.faults.models;
  if (mode === "down") {
    rec.fault = "models down";
    res.socket?.destroy();
    finish(rec, 0, deps);
    return;
  }
  if (mode === "garbage") {
    rec.fault = "models garbage";
    res.writeHead(200, { "content-type": "application/json" });
    res.end("<html>this is not JSON");
    finish(rec, 200, deps);
    return;
  }
  const data = deps.models.map((id) => ({ id, object: "model", owned_by: "dynamo", created: CREATED }));
  sendJson(res, 200, { object: "list", data });
  finish(rec, 200, deps);
}

function reject(res: ServerResponse, rec: RecordedRequest, deps: FrontendDeps, status: number, message: string, rejection: string): void {
  rec.rejection = rejection;
  sendJson(res, status, errorBody(deps.errorBodyStyle, status, message));
  finish(rec, status, deps, `${rejection}: ${message}`);
}

async function handleChat(res: ServerResponse, rec: RecordedRequest, deps: FrontendDeps): Promise<void> {
  const fault = deps.faults.takeChat();
  if (fault) rec.fault = describeChatFault(fault);

  if (fault?.type === "status") {
    const body = fault.body ?? errorBody(deps.errorBodyStyle, fault.status, defaultStatusMessage(fault.status));
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const type = typeof body === "string" ? "text/plain" : "application/json";
    res.writeHead(fault.status, { "content-type": type, ...fault.headers });
    res.end(text);
    finish(rec, fault.status, deps);
    return;
  }
  if (fault?.type === "delay") {
    // Resolve early when the socket goes away (client abort or close()), so no timer outlives the sim.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, fault.ms);
      res.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (res.destroyed || !res.socket || res.socket.destroyed) return finish(rec, 0, deps, "client went away during delay");
  }

  if (rec.body === undefined || typeof rec.body !== "object" || rec.body === null) {
    return reject(res, rec, deps, 400, "Failed to parse the request body as JSON", "invalid json");
  }
  const body = rec.body as Record<string, unknown>;
  if (!Array.isArray(body.messages)) {
    return reject(res, rec, deps, 400, "Failed to deserialize the JSON body into the target type: missing field `messages`", "missing messages");
  }

  const identity = checkIdentity(rec.generation, body, rec.headers);
  if (identity.error) return reject(res, rec, deps, 400, identity.error.message, identity.error.rejection);
  if (identity.agentContext) rec.agentContext = identity.agentContext;
  if (identity.sessionControl) {
    rec.sessionControl = identity.sessionControl;
    deps.sessions.control(identity.sessionControl, rec.index);
  }
  if (identity.sessionFinal && identity.agentContext) {
    rec.sessionFinal = true;
    deps.sessions.final(identity.agentContext, rec.index);
  }

  const decision = decideTurn(body);
  const answer = materialize(decision);
  rec.policy = decision.policy;
  rec.toolCalls = answer.toolCalls;
  if (answer.text !== undefined) rec.responseText = answer.text;

  const base = { id: newCompletionId(), model: typeof body.model === "string" ? body.model : "unknown", created: Math.floor(Date.now() / 1000) };
  const usage = estimateUsage(body, answer.text ?? answer.toolCalls.map((c) => c.arguments).join(""));
  const echo: Record<string, string> = rec.xRequestId ? { "x-request-id": rec.xRequestId } : {};

  if (!rec.stream) {
    if (fault?.type === "reset-after-first-chunk") {
      res.socket?.destroy();
      return finish(rec, 0, deps);
    }
    if (fault?.type === "malformed-sse") {
      res.writeHead(200, { "content-type": "application/json", ...echo });
      res.end('{"id": "chatcmpl-broken", "choices": [');
      return finish(rec, 200, deps);
    }
    const served = withCachedTokens(usage, deps.serving());
    const nvext = responseNvext(requestedExtraFields(body), deps.serving(), { receivedAt: rec.receivedAt, firstTokenAt: Date.now(), endAt: Date.now() }, served);
    sendJson(res, 200, { ...completionObject(base, answer, served), ...(nvext ? { nvext } : {}) }, echo);
    return finish(rec, 200, deps);
  }

  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", ...echo });
  const profile = deps.serving();
  const chunks = streamChunks(base, answer, profile.textChunks);
  res.write(sseData(chunks[0]));
  if (fault?.type === "reset-after-first-chunk") {
    // Give the first chunk a moment to leave the socket, then cut the connection.
    await sleep(20);
    res.socket?.destroy();
    return finish(rec, 200, deps, "connection reset after first chunk");
  }
  if (fault?.type === "malformed-sse") {
    res.write('data: {"id": "chatcmpl-broken", "choices": [{"delta": {"content": \n\n');
    res.end(sseData("[DONE]"));
    return finish(rec, 200, deps, "malformed SSE line");
  }
  const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
  const done = await writePacedStream(res, chunks, {
    profile,
    asked: requestedExtraFields(body),
    receivedAt: rec.receivedAt,
    usage: streamOptions?.include_usage === true ? usage : undefined,
    base,
  });
  finish(rec, done ? 200 : 0, deps, done ? undefined : "client went away during the stream");
}

export async function startFrontend(deps: FrontendDeps): Promise<Listening> {
  return listenLocal((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const receivedAt = Date.now();
      const method = req.method ?? "GET";
      const path = new URL(req.url ?? "/", "http://sim").pathname;
      const headers = lowercaseHeaders(req);
      let raw = "";
      try {
        raw = (await readBody(req)).toString("utf8");
      } catch {
        // Aborted or undecodable body: fall through with what we have.
      }
      let body: unknown;
      try {
        body = raw === "" ? undefined : JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const dynamoHeaders: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) if (k.startsWith("x-dynamo-")) dynamoHeaders[k] = v;
      const rec: RecordedRequest = {
        index: deps.requests.length,
        kind: kindOf(method, path),
        method,
        path,
        headers,
        body,
        rawBody: raw,
        generation: deps.generation(),
        stream: (body as { stream?: unknown } | undefined)?.stream === true,
        status: 0,
        dynamoHeaders,
        sessionFinal: false,
        toolCalls: [],
        receivedAt,
        ...(headers["x-request-id"] !== undefined ? { xRequestId: headers["x-request-id"] } : {}),
        ...(headers.traceparent !== undefined ? { traceparent: headers.traceparent } : {}),
        ...(headers.tracestate !== undefined ? { tracestate: headers.tracestate } : {}),
      };
      deps.requests.push(rec);
      try {
        if (rec.kind === "models") handleModels(res, rec, deps);
        else if (rec.kind === "chat") await handleChat(res, rec, deps);
        else {
          sendJson(res, 404, errorBody(deps.errorBodyStyle, 404, `no route for ${method} ${path}`));
          finish(rec, 404, deps);
        }
      } catch (err) {
        deps.log(`[sim] handler error: ${String(err)}`);
        if (!res.headersSent && !res.destroyed) {
          sendJson(res, 500, errorBody(deps.errorBodyStyle, 500, "Internal server error"));
          finish(rec, 500, deps);
        } else res.destroy();
      }
    })();
  });
}
