/**
 * The process-wide services, built once from the config: tracer provider + span tree (src/trace),
 * the relay as one of the tracer's span processors (src/relay), and — with `DYN_AGENT_TRACE` on —
 * protocol negotiation and Dynamo session lifecycle (src/provider).
 */
import { DynamoSessions } from "./provider/session.ts";
import { ProtocolState } from "./provider/protocol.ts";
import type { ProviderDeps } from "./provider/deps.ts";
import { DynamoToolRelayProcessor } from "./relay/processor.ts";
import type { ToolRelayStatus } from "./relay/types.ts";
import { createTracing, withTimeout, type Tracing } from "./trace/export.ts";
import { readInboundContext } from "./trace/inbound.ts";
import { processRole } from "./trace/process-role.ts";
import { SpanTree } from "./trace/span-tree.ts";
import type { PluginRuntime } from "./runtime.ts";
import { service } from "./runtime.ts";

export interface Services {
  readonly tracing: Tracing;
  readonly tree: SpanTree;
  readonly relay: DynamoToolRelayProcessor | undefined;
  readonly protocols: ProtocolState | undefined;
  readonly sessions: DynamoSessions | undefined;
  readonly providerDeps: ProviderDeps;
  /** Flushes spans and relay events, bounded by `flushTimeoutMs`; never rejects. */
  flush(): Promise<void>;
  /** Terminates open Dynamo sessions, flushes and closes everything, bounded; idempotent. */
  shutdown(reason: string): Promise<void>;
  status(): PluginStatus;
}

export interface PluginStatus {
  readonly agentTrace: boolean;
  readonly protocol: { setting: string; inUse: string; fallbacks: number } | undefined;
  readonly openSessions: Array<{ trajectoryId: string; protocol: string; runKind: string }>;
  readonly sessionRequests: { opened: number; closed: number; finals: number; failed: number } | undefined;
  readonly relay: ToolRelayStatus | undefined;
  readonly exporter: Record<string, unknown>;
  readonly spanTree: Record<string, number>;
  readonly lastError: string | undefined;
}

export function getServices(runtime: PluginRuntime): Services {
  return service(runtime, "services", () => createServices(runtime));
}

function createServices(runtime: PluginRuntime): Services {
  const { config, log } = runtime;
  const protocols = config.agentTrace
    ? new ProtocolState(config.protocol, (from, to) =>
        log.info(`Dynamo rejected ${from} agent identity (Dynamo 1.3+); using ${to} for the rest of this process.`),
      )
    : undefined;

  const relay =
    config.agentTrace && config.toolEventsEndpoint
      ? new DynamoToolRelayProcessor({
          endpoint: config.toolEventsEndpoint,
          topic: config.toolEventsTopic,
          capacity: config.toolEventsQueueCapacity,
          log,
          protocol: () => protocols?.current ?? "nvext",
          sessionTypeId: config.sessionTypeId,
          flushTimeoutMs: config.flushTimeoutMs,
        })
      : undefined;

  const tracing = createTracing(config, log, relay ? [relay] : []);

  const inbound = readInboundContext();
  if (inbound.kind === "invalid") runtime.warnOnce("traceparent", inbound.warning);
  const role = processRole(process.env, config);

  let sessions: DynamoSessions | undefined;
  const tree = new SpanTree({
    tracer: tracing.tracer,
    idGenerator: tracing.idGenerator,
    config,
    inbound: inbound.kind === "valid" ? inbound.inbound : undefined,
    identity: role,
    onRunEnded: (run) => sessions?.runEnded(run),
  });

  if (config.agentTrace) {
    sessions = new DynamoSessions({
      baseUrl: config.baseUrl,
      apiKey: () => config.apiKey,
      timeoutSeconds: config.sessionTimeoutSeconds,
      traceparentOf: (run) => `00-${run.spanContext.traceId}-${run.spanContext.spanId}-0${run.spanContext.traceFlags & 1}`,
      log,
    });
  }

  let lastError: string | undefined;
  let shutdownPromise: Promise<void> | undefined;
  /** Closes / finalizes every open Dynamo session within `timeout`; reports the ones Dynamo left unanswered. */
  const terminateSessions = async (reason: string, timeout: number) => {
    if (!sessions || (await withTimeout(sessions.terminateAll(), timeout)) === "flushed") return;
    const pending = sessions.pendingTerminations();
    if (pending.length === 0) return;
    log.warn(
      `Dynamo session close / session-final requests still unanswered at ${reason} for ${pending.join(", ")}; ` +
        `Dynamo's idle timeout will free ${pending.length === 1 ? "that session" : "those sessions"}.`,
    );
  };
  const flush = async () => {
    const timeout = config.flushTimeoutMs;
    await Promise.all([tracing.flush(timeout), relay ? withTimeout(relay.forceFlush(), timeout) : undefined]);
  };

  return {
    tracing,
    tree,
    relay,
    protocols,
    sessions,
    providerDeps: {
      config,
      tree,
      sessions,
      protocols,
      warnOnce: (key, message) => {
        lastError = message;
        runtime.warnOnce(key, message);
      },
    },
    flush,
    shutdown(reason) {
      shutdownPromise ??= (async () => {
        const timeout = config.flushTimeoutMs;
        // End every open span first (their exports and relay records are queued synchronously), then
        // close Dynamo sessions, export and relay side by side: the stop takes one flush bound, not
        // the sum of three (OpenClaw gives gateway_stop 5 s, openclaw-plugin-sdk.md §8.2). The relay
        // reports its counters itself when it closes (one line, with the endpoint).
        tree.closeAll();
        await Promise.all([
          terminateSessions(reason, timeout),
          tracing.shutdown(timeout),
          relay ? withTimeout(relay.shutdown(), timeout) : undefined,
        ]);
      })();
      return shutdownPromise;
    },
    status() {
      return {
        agentTrace: config.agentTrace,
        protocol: protocols ? { setting: protocols.setting, inUse: protocols.current, fallbacks: protocols.fallbacks } : undefined,
        openSessions: sessions?.openChains() ?? [],
        sessionRequests: sessions ? { ...sessions.counters } : undefined,
        relay: relay?.status(),
        exporter: { ...tracing.exporter },
        spanTree: tree.sizes,
        lastError: lastError ?? relay?.status().lastError ?? tracing.exporter.lastError,
      };
    },
  };
}
