/**
 * Inbound trace context from an outer orchestrator (SPEC §3.3): `TRACEPARENT` / `TRACESTATE` /
 * `BAGGAGE` in the process environment, read once at start-up with the OTel environment carrier
 * and the W3C propagators (otel-conventions.md §5). OpenClaw itself reads no such variable.
 */
import { ROOT_CONTEXT, propagation, trace, type Context, type SpanContext, type TraceState as TraceStateLike } from "@opentelemetry/api";
import { CompositePropagator, TraceState, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { EnvironmentGetter, EnvironmentSetter } from "@opentelemetry/propagator-env-carrier";
import { DERIVED_TRAJECTORY_ID } from "./ids.ts";

export const W3C_PROPAGATOR = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

/**
 * `tracestate` member through which this plugin hands an agent's trajectory id to processes its
 * tools start, so a nested OpenClaw can name its parent trajectory (SPEC §4.1).
 */
export const TRACESTATE_KEY = "dynamo";

export interface InboundContext {
  /** Context holding the remote parent span (and baggage). */
  readonly context: Context;
  readonly spanContext: SpanContext;
  /** Parent trajectory handed down by an outer agent run of this plugin, if any. */
  readonly parentTrajectoryId?: string;
}

export type InboundResult =
  | { readonly kind: "none" }
  | { readonly kind: "invalid"; readonly warning: string }
  | { readonly kind: "valid"; readonly inbound: InboundContext };

/** Reads the inbound context from `process.env` (the OTel environment carrier reads it live). */
export function readInboundContext(): InboundResult {
  const raw = process.env.TRACEPARENT;
  if (raw === undefined || raw.trim() === "") return { kind: "none" };
  let context: Context;
  try {
    context = W3C_PROPAGATOR.extract(ROOT_CONTEXT, undefined, new EnvironmentGetter());
  } catch {
    context = ROOT_CONTEXT;
  }
  const spanContext = trace.getSpanContext(context);
  if (!spanContext?.isRemote) {
    return {
      kind: "invalid",
      warning:
        `ignoring TRACEPARENT: not a valid W3C traceparent (expected 00-<32 lowercase hex>-<16 lowercase hex>-<2 hex>, ` +
        `non-zero ids); runs start fresh traces.`,
    };
  }
  const handedDown = spanContext.traceState?.get(TRACESTATE_KEY);
  const parentTrajectoryId = handedDown && DERIVED_TRAJECTORY_ID.test(handedDown) ? handedDown : undefined;
  return { kind: "valid", inbound: { context, spanContext, ...(parentTrajectoryId ? { parentTrajectoryId } : {}) } };
}

/**
 * Environment variables (`TRACEPARENT`, `TRACESTATE`, `BAGGAGE`) that make a child process continue
 * the trace under `spanContext`, carrying `trajectoryId` in tracestate and the inbound baggage.
 */
export function childProcessEnv(
  spanContext: SpanContext,
  trajectoryId: string | undefined,
  baggageContext: Context = ROOT_CONTEXT,
): Record<string, string> {
  let traceState = spanContext.traceState;
  if (trajectoryId && DERIVED_TRAJECTORY_ID.test(trajectoryId)) {
    traceState = withFirstMember(traceState ?? new TraceState(), TRACESTATE_KEY, trajectoryId);
  }
  const carrier: Record<string, string> = {};
  let context = trace.setSpanContext(baggageContext, traceState ? { ...spanContext, traceState } : spanContext);
  const baggage = propagation.getBaggage(baggageContext);
  if (baggage) context = propagation.setBaggage(context, baggage);
  W3C_PROPAGATOR.inject(context, undefined, new EnvironmentSetter(carrier));
  return carrier;
}

/**
 * `childProcessEnv` for many span ids of one run: the run's `TRACESTATE` and `BAGGAGE` are built
 * once by the propagators; each call only formats the W3C `traceparent` for its span id (exec
 * commands run on the hot path of a tool call, SPEC §3.3). `factory(id)` equals
 * `childProcessEnv({...runSpanContext, spanId: id}, …)` (test/trace/inbound.test.ts).
 */
export function childProcessEnvFactory(
  runSpanContext: SpanContext,
  trajectoryId: string | undefined,
  baggageContext: Context = ROOT_CONTEXT,
): (spanId: string) => Record<string, string> {
  const template = plainRunEnv(runSpanContext, trajectoryId, baggageContext) ?? childProcessEnv({ ...runSpanContext, isRemote: false }, trajectoryId, baggageContext);
  const prefix = `00-${runSpanContext.traceId}-`;
  const flags = `-0${Number(runSpanContext.traceFlags || 0).toString(16)}`;
  // No traceparent when the run's context is invalid (then the propagator wrote none either).
  if (template.TRACEPARENT === undefined) return () => ({ ...template });
  return (spanId) => ({ ...template, TRACEPARENT: prefix + spanId + flags });
}

/**
 * The common case without the propagators: no inbound tracestate or baggage, so the env is only
 * `TRACESTATE: dynamo=<trajectory>` (W3C trace-context §3.3.1; a derived trajectory id is a valid
 * member value). Built on a run's first exec command, where the propagators' generic path would
 * still run unoptimized (~30 µs in a Gateway, once per run). Undefined when the generic path is needed.
 */
function plainRunEnv(runSpanContext: SpanContext, trajectoryId: string | undefined, baggageContext: Context): Record<string, string> | undefined {
  if (runSpanContext.traceState !== undefined || propagation.getBaggage(baggageContext) !== undefined) return undefined;
  if (!trace.isSpanContextValid(runSpanContext)) return undefined;
  const env: Record<string, string> = { TRACEPARENT: "" };
  if (trajectoryId && DERIVED_TRAJECTORY_ID.test(trajectoryId)) env.TRACESTATE = `${TRACESTATE_KEY}=${trajectoryId}`;
  return env;
}

/**
 * `state` with `key=value` as its first member. A tracestate holds at most 32 members and 512
 * characters (`TraceState.set` refuses more), so when the member does not fit, members are dropped
 * from the end until it does, as W3C trace-context prescribes for a full list: the trajectory a
 * nested OpenClaw needs must not be lost to a long inbound tracestate.
 */
function withFirstMember(state: TraceStateLike, key: string, value: string): TraceStateLike {
  let current = state;
  // At most 32 members to drop; the bound also guards against a state that will not shrink.
  for (let dropped = 0; dropped <= 32; dropped++) {
    const next = current.set(key, value);
    if (next.get(key) === value) return next;
    const last = current.serialize().split(",").at(-1)?.split("=")[0];
    if (!last) return next;
    current = current.unset(last);
  }
  return current;
}
