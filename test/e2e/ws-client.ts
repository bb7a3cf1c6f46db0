/**
 * A minimal Gateway WebSocket client for e2e tests (protocol v4, docs/gateway/protocol/*.md).
 *
 * It connects the way a local `openclaw agent` does against a loopback Gateway with a shared token
 * (dist `call-*.mjs` `shouldOmitDeviceIdentityForGatewayCall`, dist `client-*.mjs`
 * `assembleConnectParams`): wait for the `connect.challenge` event, then send `connect` with
 * `auth.token`, role `operator`, scopes `["operator.admin"]`, no `device` block (a device-less
 * shared-secret connection is allowed only over loopback for the reserved `cli`/`cli` and
 * `gateway-client`/`backend` identities). Unlike the CLI it can put a W3C `traceparent` on a
 * request frame (transport.md: `{type:"req", id, method, params, traceparent?}`).
 *
 * `agent` answers twice on the same request id: `{status:"accepted", runId, …}` right away, then
 * the final result (`{status:"ok", result:{payloads}, …}`) when the run ends; `request(…,
 * {expectFinal: true})` skips the ack like the CLI's `GatewayClient` does.
 */
import { randomBytes, randomUUID } from "node:crypto";

export type GatewayClientIdentity = { id: "cli"; mode: "cli" } | { id: "gateway-client"; mode: "backend" };

export interface GatewayConnectOptions {
  port: number;
  token: string;
  host?: string;
  /** Default `cli`/`cli` (the plain `openclaw agent` identity); `gateway-client`/`backend` is what the CLI uses with `--model`. */
  client?: GatewayClientIdentity;
  scopes?: string[];
  /** Overall budget for the handshake, including retries of a still-starting Gateway (default 30 s). */
  connectTimeoutMs?: number;
}

export interface GatewayErrorShape {
  code?: string;
  message?: string;
  details?: unknown;
  retryable?: boolean;
  retryAfterMs?: number;
}

export interface GatewayEvent {
  event: string;
  payload: unknown;
  seq?: number;
  receivedAtMs: number;
}

export interface HelloOk {
  type: "hello-ok";
  protocol: number;
  server: { version: string; connId: string };
  features: { methods?: string[]; events?: string[]; capabilities?: string[] };
  auth: { role: string; scopes: string[] };
  policy: { maxPayload: number; tickIntervalMs: number };
  [key: string]: unknown;
}

export interface RequestOptions {
  /** W3C `traceparent` for this request frame only. */
  traceparent?: string;
  /** Treat `{status:"accepted"}` as an ack and keep waiting for the final response on the same id. */
  expectFinal?: boolean;
  /** Default 30 s (300 s with `expectFinal`). */
  timeoutMs?: number;
  onAccepted?: (payload: unknown) => void;
}

export interface GatewayResponse<T = unknown> {
  id: string;
  payload: T;
  /** The `{status:"accepted"}` ack, when one came first. */
  accepted?: unknown;
  sentAtMs: number;
  acceptedAtMs?: number;
  finishedAtMs: number;
}

export class GatewayRequestError extends Error {
  readonly error: GatewayErrorShape;
  readonly payload: unknown;
  constructor(method: string, error: GatewayErrorShape, payload?: unknown) {
    super(`gateway ${method} failed: ${error.code ?? "?"} ${error.message ?? ""}`.trim());
    this.name = "GatewayRequestError";
    this.error = error;
    this.payload = payload;
  }
}

export interface AgentParams {
  message: string;
  agentId?: string;
  model?: string;
  sessionId?: string;
  sessionKey?: string;
  timeout?: number;
  idempotencyKey?: string;
  [key: string]: unknown;
}

/** The final `agent` payload (dist `agent-via-gateway-*.mjs` reads these fields). */
export interface AgentFinalPayload {
  runId?: string;
  status?: string;
  summary?: string;
  result?: { payloads?: Array<{ text?: string }>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface GatewayConnection {
  readonly hello: HelloOk;
  /** Every event frame received after the handshake, in order. */
  readonly events: GatewayEvent[];
  readonly connectedAtMs: number;
  request<T = unknown>(method: string, params?: unknown, options?: RequestOptions): Promise<GatewayResponse<T>>;
  /** `agent` with a fresh idempotency key, waiting past the accepted ack for the final result. */
  agent(params: AgentParams, options?: Omit<RequestOptions, "expectFinal">): Promise<GatewayResponse<AgentFinalPayload>>;
  /** Close the socket (code 1000) and wait for it to be closed. Idempotent. */
  close(): Promise<void>;
}

/** `00-<32 hex>-<16 hex>-01` with random, valid (non-zero) ids. */
export function newTraceparent(): { traceparent: string; traceId: string; spanId: string } {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return newTraceparent();
  return { traceparent: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

interface Pending {
  method: string;
  expectFinal: boolean;
  sentAtMs: number;
  accepted?: unknown;
  acceptedAtMs?: number;
  onAccepted?: (payload: unknown) => void;
  resolve(response: GatewayResponse): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Frame {
  type?: unknown;
  id?: unknown;
  ok?: unknown;
  payload?: unknown;
  error?: GatewayErrorShape;
  event?: unknown;
  seq?: unknown;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connect and authenticate; retries while the Gateway answers retryable `UNAVAILABLE` (startup sidecars). */
export async function connectGateway(options: GatewayConnectOptions): Promise<GatewayConnection> {
  const deadline = Date.now() + (options.connectTimeoutMs ?? 30_000);
  for (;;) {
    try {
      return await connectOnce(options, deadline);
    } catch (error) {
      const retryAfterMs = error instanceof GatewayRequestError && error.error.retryable ? (error.error.retryAfterMs ?? 500) : undefined;
      if (retryAfterMs === undefined || Date.now() + retryAfterMs >= deadline) throw error;
      await sleep(retryAfterMs);
    }
  }
}

function connectOnce(options: GatewayConnectOptions, deadline: number): Promise<GatewayConnection> {
  const url = `ws://${options.host ?? "127.0.0.1"}:${options.port}`;
  const client = options.client ?? { id: "cli", mode: "cli" };
  const ws = new WebSocket(url);
  const events: GatewayEvent[] = [];
  const pending = new Map<string, Pending>();
  let closed = false;
  let closeInfo = "";
  const closedPromise = new Promise<void>((resolve) => {
    ws.addEventListener("close", (event) => {
      closed = true;
      closeInfo = `${event.code} ${event.reason}`.trim();
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        pending.delete(id);
        p.reject(new Error(`gateway socket closed (${closeInfo}) before ${p.method} answered`));
      }
      resolve();
    });
  });

  const send = (frame: Record<string, unknown>) => ws.send(JSON.stringify(frame));

  const request = <T>(method: string, params: unknown, requestOptions: RequestOptions = {}): Promise<GatewayResponse<T>> => {
    if (closed) return Promise.reject(new Error(`gateway socket closed (${closeInfo}); cannot send ${method}`));
    const id = randomUUID();
    const expectFinal = requestOptions.expectFinal === true;
    const timeoutMs = requestOptions.timeoutMs ?? (expectFinal ? 300_000 : 30_000);
    return new Promise<GatewayResponse<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`gateway ${method} not answered within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        method,
        expectFinal,
        sentAtMs: Date.now(),
        ...(requestOptions.onAccepted ? { onAccepted: requestOptions.onAccepted } : {}),
        resolve: resolve as (response: GatewayResponse) => void,
        reject,
        timer,
      });
      const frame: Record<string, unknown> = { type: "req", id, method };
      if (params !== undefined) frame.params = params;
      if (requestOptions.traceparent !== undefined) frame.traceparent = requestOptions.traceparent;
      send(frame);
    });
  };

  const onResponse = (frame: Frame) => {
    const id = typeof frame.id === "string" ? frame.id : "";
    const p = pending.get(id);
    if (!p) return;
    const status = (frame.payload as { status?: unknown } | undefined)?.status;
    if (frame.ok === true && p.expectFinal && status === "accepted") {
      if (p.acceptedAtMs === undefined) {
        p.accepted = frame.payload;
        p.acceptedAtMs = Date.now();
        p.onAccepted?.(frame.payload);
      }
      return;
    }
    pending.delete(id);
    clearTimeout(p.timer);
    if (frame.ok === true) {
      p.resolve({
        id,
        payload: frame.payload,
        sentAtMs: p.sentAtMs,
        finishedAtMs: Date.now(),
        ...(p.acceptedAtMs !== undefined ? { accepted: p.accepted, acceptedAtMs: p.acceptedAtMs } : {}),
      });
    } else {
      p.reject(new GatewayRequestError(p.method, frame.error ?? {}, frame.payload));
    }
  };

  return new Promise<GatewayConnection>((resolve, reject) => {
    let handshakeDone = false;
    const fail = (error: Error) => {
      if (handshakeDone) return;
      handshakeDone = true;
      clearTimeout(timer);
      if (!closed) ws.close(1000, "handshake failed");
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`gateway handshake with ${url} timed out`)), Math.max(1, deadline - Date.now()));

    ws.addEventListener("error", () => fail(new Error(`gateway socket error on ${url}`)));
    void closedPromise.then(() => fail(new Error(`gateway socket closed during handshake (${closeInfo})`)));

    ws.addEventListener("message", (message) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(message.data)) as Frame;
      } catch {
        return;
      }
      if (frame.type === "res") return onResponse(frame);
      if (frame.type !== "event" || typeof frame.event !== "string") return;
      if (frame.event === "connect.challenge") {
        if (handshakeDone) return;
        // No device block, so the nonce is not signed; the challenge only gates when to connect.
        const params = {
          minProtocol: 4,
          maxProtocol: 4,
          client: {
            id: client.id,
            ...(client.mode === "backend" ? { displayName: "gateway:agent" } : {}),
            version: "openclaw-dynamo-e2e",
            platform: process.platform,
            mode: client.mode,
            instanceId: randomUUID(),
          },
          caps: [],
          auth: { token: options.token },
          role: "operator",
          scopes: options.scopes ?? ["operator.admin"],
        };
        request<HelloOk>("connect", params, { timeoutMs: Math.max(1, deadline - Date.now()) }).then(
          (response) => {
            if (handshakeDone) return;
            handshakeDone = true;
            clearTimeout(timer);
            const connectedAtMs = Date.now();
            resolve({
              hello: response.payload,
              events,
              connectedAtMs,
              request,
              agent: (agentParams, agentOptions = {}) =>
                request<AgentFinalPayload>(
                  "agent",
                  { ...agentParams, idempotencyKey: agentParams.idempotencyKey ?? randomUUID() },
                  { ...agentOptions, expectFinal: true },
                ),
              async close() {
                if (!closed && ws.readyState !== WebSocket.CLOSING) ws.close(1000, "done");
                await closedPromise;
              },
            });
          },
          (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
        );
        return;
      }
      events.push({
        event: frame.event,
        payload: frame.payload,
        ...(typeof frame.seq === "number" ? { seq: frame.seq } : {}),
        receivedAtMs: Date.now(),
      });
    });
  });
}
