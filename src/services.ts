/**
 * One generation of the process-wide services, built from one set of settings: tracer provider +
 * span tree (src/trace), the relay as one of the tracer's span processors (src/relay), and — with
 * `DYN_AGENT_TRACE` on — protocol negotiation and Dynamo session lifecycle (src/provider). Which
 * generation is current, and when one is replaced, is src/generations.ts (docs/lifecycle.md).
 */
import { DynamoSessions } from "./provider/session.ts";
import { ProtocolState } from "./provider/protocol.ts";
import type { ProviderDeps } from "./provider/deps.ts";
import { DynamoToolRelayProcessor } from "./relay/processor.ts";
import type { ToolRelayStatus } from "./relay/types.ts";
import { createTracing, withTimeout, type ExporterStatus, type Tracing } from "./trace/export.ts";
import { readInboundContext } from "./trace/inbound.ts";
import { createMetrics, type Metrics } from "./trace/metrics.ts";
import { REDACTED, redactSecrets, secretsOf } from "./trace/redact.ts";
import { processRole } from "./trace/process-role.ts";
import { SpanTree } from "./trace/span-tree.ts";
import { Conversations } from "./trace/conversations.ts";
import { FileChainStore, chainStorePath, openclawStateDir } from "./trace/chain-store.ts";
import { STATE_DIR_SERVICE, type PluginRuntime } from "./runtime.ts";
import type { DynamoPluginConfig } from "./types.ts";

export { getServices } from "./generations.ts";

export interface Services {
  /** 1 for the first services of the process, +1 for each rebuild (docs/lifecycle.md). */
  readonly generation: number;
  /** `PluginRuntime.fingerprint` of the settings these services were built from. */
  readonly fingerprint: string;
  /** True once `shutdown` started: events reaching these services now are counted as dropped. */
  readonly closed: boolean;
  readonly tracing: Tracing;
  readonly metrics: Metrics;
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
  /** Which services generation answers (it changes when a plugin replacement brings new settings). */
  readonly generation: number;
  readonly agentTrace: boolean;
  readonly protocol: { setting: string; inUse: string; fallbacks: number } | undefined;
  readonly openSessions: Array<{ trajectoryId: string; protocol: string; runKind: string }>;
  readonly sessionRequests: { opened: number; closed: number; finals: number; failed: number } | undefined;
  readonly relay: ToolRelayStatus | undefined;
  readonly exporter: ExporterStatus;
  readonly spanTree: SpanTree["sizes"];
  readonly lastError: string | undefined;
  /** Final counters of the generations a plugin replacement retired, newest first (docs/lifecycle.md). */
  readonly replacedGenerations?: readonly ReplacedGeneration[];
}

export interface ReplacedGeneration {
  readonly generation: number;
  readonly reason: string;
  readonly relay: ToolRelayStatus | undefined;
  readonly exporter: ExporterStatus;
}

export function createServices(runtime: PluginRuntime, generation: number): Services {
  const { config, log, fingerprint } = runtime;
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

  // OTLP metrics derive from ended spans (src/trace/metrics.ts): one more span processor.
  const metrics = createMetrics(config, log, { relayCounters: () => relay?.status() });
  const tracing = createTracing(config, log, [...(relay ? [relay] : []), ...(metrics.processor ? [metrics.processor] : [])]);

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
    // Chains continue across processes where OpenClaw's session does (docs/identity.md).
    conversations: new Conversations({
      store: config.agentTrace ? new FileChainStore(chainStorePath(stateDirOf(runtime))) : undefined,
      onStoreError: (error) =>
        runtime.warnOnce("chain-store", `Dynamo chain ids could not be kept under OpenClaw's state dir (${String(error)}); conversations start new chains in a new process.`),
    }),
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
    // A one-shot CLI's exit does not end the lead's OpenClaw session (the next process continues
    // its chain); a Gateway's stop does (session_end "shutdown" follows).
    const leads = runtime.services.get("gateway") === true;
    if (!sessions || (await withTimeout(sessions.terminateAll({ leads }), timeout)) === "flushed") return;
    const pending = sessions.pendingTerminations();
    if (pending.length === 0) return;
    log.warn(
      `Dynamo session close / session-final requests still unanswered at ${reason} for ${pending.join(", ")}; ` +
        `Dynamo's idle timeout will free ${pending.length === 1 ? "that session" : "those sessions"}.`,
    );
  };
  const flush = async () => {
    const timeout = config.flushTimeoutMs;
    tree.conversations.saveNow();
    const [spans] = await Promise.all([
      tracing.flush(timeout),
      relay ? withTimeout(relay.forceFlush(), timeout) : undefined,
      metrics.flush(timeout),
    ]);
    // A collector that does not answer and a Dynamo that is not listening are causes reported once,
    // when a flush cannot deliver: a one-shot CLI may exit without ever reaching shutdown's report.
    // (A Gateway lives on: there the exporter reports the failure itself, and shutdown the totals.)
    const exporter = tracing.exporter;
    const unconfirmed = exporter.ended - exporter.exported - exporter.failed;
    if (spans === "timeout" && exporter.enabled && unconfirmed > 0 && runtime.services.get("gateway") !== true) {
      runtime.warnOnce(
        "otlp-unconfirmed",
        `OTLP export to ${exporter.endpoint}: ${unconfirmed} span(s) not confirmed within ${timeout} ms (is the collector answering?); ` +
          `they are counted in dynamo.status, and whatever is still unsent when OpenClaw exits is lost.`,
      );
    }
    const counters = relay?.status();
    if (relay && counters && counters.pending > 0 && !counters.connected) {
      runtime.warnOnce(
        "relay-undelivered",
        `Dynamo tool-event relay: ${counters.pending} event(s) not delivered to ${counters.endpoint} within ${timeout} ms ` +
          `(is Dynamo listening there?); they stay queued (up to ${config.toolEventsQueueCapacity}), are counted in dynamo.status, ` +
          `and whatever is still queued when OpenClaw exits is lost.`,
      );
    }
  };

  return {
    generation,
    fingerprint,
    get closed() {
      return shutdownPromise !== undefined;
    },
    tracing,
    metrics,
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
        tree.conversations.saveNow();
        await Promise.all([
          terminateSessions(reason, timeout),
          tracing.shutdown(timeout),
          metrics.shutdown(timeout),
          relay ? withTimeout(relay.shutdown(), timeout) : undefined,
        ]);
      })();
      return shutdownPromise;
    },
    status() {
      // Any operator.read client may call dynamo.status: no credentials in URLs, no API key or OTLP header values.
      const scrub = scrubber(config);
      const relayStatus = relay?.status();
      const exporter = tracing.exporter;
      return {
        generation,
        agentTrace: config.agentTrace,
        protocol: protocols ? { setting: protocols.setting, inUse: protocols.current, fallbacks: protocols.fallbacks } : undefined,
        openSessions: sessions?.openChains() ?? [],
        sessionRequests: sessions ? { ...sessions.counters } : undefined,
        relay: relayStatus && {
          ...relayStatus,
          endpoint: scrub(relayStatus.endpoint),
          ...(relayStatus.lastError === undefined ? {} : { lastError: scrub(relayStatus.lastError) }),
        },
        exporter: {
          ...exporter,
          ...(exporter.endpoint === undefined ? {} : { endpoint: scrub(exporter.endpoint) }),
          ...(exporter.lastError === undefined ? {} : { lastError: scrub(exporter.lastError) }),
        },
        spanTree: tree.sizes,
        lastError: mapDefined(lastError ?? relayStatus?.lastError ?? exporter.lastError, scrub),
      };
    },
  };
}

const mapDefined = (value: string | undefined, fn: (text: string) => string): string | undefined =>
  value === undefined ? undefined : fn(value);

/**
 * Text safe to show in the status: URL user-info and query values become `[redacted]` (an OTLP
 * endpoint like `https://user:token@host/v1/traces?api_key=…`), as do the user's API key and the
 * OTLP header values wherever they appear (an error message that echoes them).
 */
function scrubber(config: Pick<DynamoPluginConfig, "apiKey" | "apiKeyFromUser" | "otlpHeaders">): (text: string) => string {
  const secrets = secretsOf(config);
  return (text) =>
    redactSecrets(
      text
        .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, `$1${REDACTED}@`)
        .replace(/([?&][^=\s&#]+=)[^\s&#]+/g, `$1${REDACTED}`),
      secrets,
    );
}

/** OpenClaw's state dir as OpenClaw resolves it; without a host runtime (tests, the bench), `OPENCLAW_STATE_DIR` or `~/.openclaw`. */
function stateDirOf(runtime: PluginRuntime): string {
  const resolve = runtime.services.get(STATE_DIR_SERVICE) as (() => string) | undefined;
  try {
    if (resolve) return resolve();
  } catch {
    // fall back below
  }
  return openclawStateDir();
}
