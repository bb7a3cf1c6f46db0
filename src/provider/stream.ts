/**
 * The provider's stream wrapper: runs once per HTTP model request (openclaw-plugin-sdk.md §7) and
 * is the only place that shapes what goes on the wire to Dynamo:
 *  - `traceparent`/`tracestate` naming the plugin's `chat` span (replacing OpenClaw's own), so
 *    Dynamo's `http-request` span nests under it (SPEC §3.4);
 *  - `x-request-id` (kept when the caller set one, else `<trace-id>-<chat span id>`), which Dynamo
 *    copies into its request-trace records;
 *  - Dynamo agent identity for the negotiated generation (SPEC §4), with the transparent `auto`
 *    fallback from `nvext` to headers.
 * The caller's options, headers and payload objects are never mutated: OpenClaw may retry with them.
 */
import { randomUUID } from "node:crypto";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { ProviderWrapStreamFnContext } from "openclaw/plugin-sdk/plugin-entry";
import { DYNAMO } from "../trace/attributes.ts";
import { ChatTiming } from "../trace/chat-timing.ts";
import type { ChatCall, ChatResult } from "../trace/span-tree.ts";
import type { DynamoProtocol } from "../types.ts";
import { getHeader, withoutHeaders } from "./headers.ts";
import { IDENTITY_HEADERS, agentContext, sessionHeaders, withNvext, type SessionControl } from "./identity.ts";
import type { DynamoEndpoint } from "./session.ts";
import { mapStream, observeResult, withNvextFallback, type StreamFn, type StreamLike } from "./stream-events.ts";
import type { ProviderDeps } from "./deps.ts";
import { expectNvext, extraFieldsFor } from "./nvext-reader.ts";
import { timeStream } from "./stream-timing.ts";
import { trimBaseUrl } from "./models.ts";

type StreamOptions = NonNullable<Parameters<StreamFn>[2]>;
type Model = Parameters<StreamFn>[0];

export const X_REQUEST_ID = "x-request-id";
const AUTHORIZATION = "authorization";
const TRACE_HEADERS = ["traceparent", "tracestate"];
const traceContextPropagator = new W3CTraceContextPropagator();

/**
 * `deps` may be a getter: the provider passes the current services generation's (src/generations.ts),
 * read once per request, so a request keeps the generation it started with.
 */
export function createStreamWrapper(deps: ProviderDeps | (() => ProviderDeps)) {
  const depsOf = typeof deps === "function" ? deps : () => deps;
  return (ctx: ProviderWrapStreamFnContext): StreamFn | undefined => {
    const inner = ctx.streamFn;
    if (!inner) return undefined;
    return (model, context, options) => {
      const deps = depsOf();
      let request: ModelRequest;
      try {
        request = prepareRequest(deps, model, context, options);
      } catch (error) {
        // Telemetry must never break a run: fall back to the plain request.
        deps.warnOnce("wrapper", `could not add tracing/identity to a model request: ${String(error)}`);
        return inner(model, context, options);
      }
      return request.send(inner, model, context);
    };
  };
}

interface ModelRequest {
  send(inner: StreamFn, model: Model, context: Parameters<StreamFn>[1]): StreamLike | Promise<StreamLike>;
}

function prepareRequest(
  deps: ProviderDeps,
  model: Model,
  context: Parameters<StreamFn>[1],
  options: StreamOptions | undefined,
): ModelRequest {
  const { config } = deps;
  // OpenClaw names every model call `<runId>:model:<n>`; a request without one (some other caller
  // of the stream function) is traced under the latest run of its session, if there is one.
  const runId = options?.requestId ? undefined : deps.tree?.latestRunIdOfSession(options?.sessionId);
  const callId = options?.requestId ?? (runId ? `${runId}:request:${randomUUID()}` : undefined);
  const chat = callId === undefined ? undefined : deps.tree?.startChat(callId, {
    ...(runId ? { runId } : {}),
    sessionId: options?.sessionId,
    model: model.id,
    provider: "dynamo",
    ...serverOf(model.baseUrl),
  });
  if (chat) deps.tree?.captureChatInput(chat.callId, (context as { messages?: unknown }).messages);
  const timing = chat ? new ChatTiming() : undefined;

  const callerRequestId = getHeader(options?.headers, X_REQUEST_ID)?.trim() || undefined;
  const xRequestId = callerRequestId ?? (chat ? `${chat.spanContext.traceId}-${chat.spanContext.spanId}` : randomUUID());
  chat?.span.setAttribute(DYNAMO.X_REQUEST_ID, xRequestId);
  const forgetNvext = timing ? expectNvext(xRequestId, timing) : undefined;

  const baseHeaders = withoutHeaders(options?.headers, [X_REQUEST_ID, ...(chat ? TRACE_HEADERS : []), ...IDENTITY_HEADERS]);
  baseHeaders[X_REQUEST_ID] = xRequestId;
  // OpenClaw 2026.9.6 authenticates with the key it resolved from the env var (`dynamo-local` when
  // the user set none) and ignores `options.apiKey`; a key from the configuration goes in the header
  // (unless the caller set one itself). It is not exported into process.env, where every command the
  // exec tool starts would inherit it.
  if (config.apiKeyFromUser && getHeader(baseHeaders, AUTHORIZATION) === undefined) {
    baseHeaders[AUTHORIZATION] = `Bearer ${config.apiKey}`;
  }
  if (chat) traceContextPropagator.inject(trace.setSpan(ROOT_CONTEXT, chat.span), baseHeaders, headerSetter);

  const identity = config.agentTrace && chat ? chat.run : undefined;
  const endpoint = identity ? endpointOf(model, baseHeaders, options) : undefined;
  /** The `session_control` the request now on the wire carries (nvext only). */
  let sentControl: SessionControl | undefined;
  const optionsFor = (protocol: DynamoProtocol): StreamOptions => {
    const headers = { ...baseHeaders };
    const out: StreamOptions = {
      ...options,
      headers,
      ...(config.apiKeyFromUser ? { apiKey: config.apiKey } : {}),
    };
    // Every traced request asks for Dynamo's worker ids and timing (docs/serving-metrics.md).
    const fields: Record<string, unknown> = {};
    sentControl = undefined;
    if (identity) {
      chat?.span.setAttribute(DYNAMO.PROTOCOL, protocol);
      if (protocol === "headers") {
        deps.sessions?.noteHeadersRequest(identity, endpoint);
        Object.assign(headers, sessionHeaders(identity.ids));
      } else {
        fields.agent_context = agentContext(config.sessionTypeId, identity.ids);
        const control = deps.sessions?.controlFor(identity, endpoint);
        if (control) fields.session_control = control;
        sentControl = control;
      }
    }
    if (!timing && Object.keys(fields).length === 0) return out;
    const callerOnPayload = options?.onPayload;
    out.onPayload = async (payload, payloadModel) => {
      const patched = withNvext(payload, timing ? { ...fields, ...extraFieldsFor(payload) } : fields);
      const replaced = callerOnPayload ? await callerOnPayload(patched, payloadModel) : undefined;
      return replaced === undefined ? patched : replaced;
    };
    return out;
  };

  return {
    send(inner, sendModel, sendContext) {
      const protocols = deps.protocols;
      const first = protocols?.current ?? "nvext";
      const attempt = (protocol: DynamoProtocol) => {
        try {
          return inner(sendModel, sendContext, optionsFor(protocol));
        } catch (error) {
          if (chat) deps.tree?.endChat(chat.callId, { stopReason: "error", errorMessage: String(error) });
          throw error;
        }
      };
      const mayFallBack = Boolean(identity && protocols?.canFallBack && first === "nvext");
      const stream = mayFallBack
        ? withNvextFallback(attempt(first), () => {
            const protocol = protocols!.fallBackToHeaders();
            chat?.span.addEvent("dynamo.protocol_fallback", { from: "nvext", to: protocol });
            return attempt(protocol);
          })
        : attempt(first);
      const timed = timing ? mapStream(stream, (resolved) => timeStream(resolved, timing)) : stream;
      return observeResult(timed, (result) => {
        forgetNvext?.();
        // A chain is opened only by an `open` that Dynamo answered (a 5xx or reset opened nothing).
        if (identity && sentControl?.action === "open") deps.sessions?.openSettled(identity, !failed(result));
        if (chat) deps.tree?.endChat(chat.callId, timing ? { ...result, serving: timing.summary() } : result);
      });
    },
  };
}

const headerSetter = {
  set(carrier: Record<string, string>, key: string, value: string) {
    carrier[key] = value;
  },
};

const failed = (result: ChatResult): boolean => result.stopReason === "error" || result.stopReason === "aborted";

/**
 * Where this request goes and with which credentials, for the chain's close / session-final: the
 * model's base URL as OpenClaw resolved it (`models.providers.dynamo.baseUrl`, onboarding) and the
 * key it resolved (auth profile or env), or the authorization header the request carries.
 */
function endpointOf(model: Model, headers: Record<string, string>, options: StreamOptions | undefined): DynamoEndpoint | undefined {
  const baseUrl = trimBaseUrl(model.baseUrl);
  if (!baseUrl) return undefined;
  const apiKey = (options as { apiKey?: unknown } | undefined)?.apiKey;
  // `headers` holds the caller's headers (authorization included) plus the plugin's own.
  const authorization = getHeader(headers, AUTHORIZATION) ?? (typeof apiKey === "string" && apiKey ? `Bearer ${apiKey}` : undefined);
  return { baseUrl, authorization };
}

function serverOf(baseUrl: string | undefined): { serverAddress?: string; serverPort?: number } {
  if (!baseUrl) return {};
  try {
    const url = new URL(baseUrl);
    const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
    return { serverAddress: url.hostname, serverPort: port };
  } catch {
    return {};
  }
}
