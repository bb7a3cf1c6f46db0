// Composition root: one simulated Dynamo = HTTP frontend + ZeroMQ tool-event ingress + OTLP receiver.
import { Faults } from "./faults.ts";
import { startFrontend } from "./frontend.ts";
import type { Listening } from "./http-util.ts";
import { startOtlpReceiver } from "./otlp.ts";
import type { OtlpMetricPoint } from "./otlp-metrics.ts";
import type { ServingProfile } from "./serving.ts";
import { startRelay } from "./relay.ts";
import type { RelayReceiver } from "./relay.ts";
import { SessionTracker } from "./sessions.ts";
import type {
  ChatFault,
  DynamoGeneration,
  ErrorBodyStyle,
  ModelsMode,
  OtlpExport,
  OtlpMode,
  OtlpSpan,
  RecordedRequest,
  RelayMessage,
  RelayRejection,
  SessionEvent,
  SessionFinal,
  SessionViolation,
} from "./types.ts";
import { waitFor } from "./wait.ts";

export interface SimulatorOptions {
  /** Default `headers` (Dynamo 1.3+). */
  generation?: DynamoGeneration;
  /** Served by `/v1/models`; default `["mock-model"]`. Chat accepts any model. */
  models?: string[];
  /** Explicit relay topic filter (G3 default `agent-tool-events`; G1 default: accept any). */
  topic?: string;
  /** Receives one line per request / relay message / export. Default: silent. */
  log?: (line: string) => void;
  /** Shape of 4xx validation bodies; default `dynamo` (flat `{message,type,code}` like Dynamo). */
  errorBodyStyle?: ErrorBodyStyle;
  /** Called once per HTTP request when its answer is complete (e.g. to write a JSON-lines log). */
  onRequest?: (request: RecordedRequest) => void;
  /** Stream pacing, cached tokens, worker ids (README "Serving"); change later with `sim.setServing()`. */
  serving?: ServingProfile;
}

export interface SimulatorFaults {
  /** Queue one-shot faults for the next chat request(s), FIFO. */
  chat(...faults: ChatFault[]): void;
  readonly pendingChat: number;
  models(mode: ModelsMode): void;
  otlp(mode: OtlpMode): void;
  /** Clear queued chat faults and set every mode back to ok. */
  reset(): void;
}

export interface Simulator {
  /** `http://127.0.0.1:<p>/v1` */
  readonly baseUrl: string;
  /** `http://127.0.0.1:<q>/v1/traces` (separate server) */
  readonly otlpUrl: string;
  /** `tcp://127.0.0.1:<r>` (PULL, bound) */
  readonly zmqEndpoint: string;
  readonly generation: DynamoGeneration;
  setGeneration(generation: DynamoGeneration): void;
  /** Replaces the serving profile for the next requests. */
  setServing(profile: ServingProfile): void;
  readonly requests: RecordedRequest[];
  readonly relay: { accepted: RelayMessage[]; rejected: RelayRejection[] };
  /** Spans and trace exports; metric data points and metric exports (`POST /v1/metrics` on the same port). */
  readonly otlp: { spans: OtlpSpan[]; exports: OtlpExport[]; metrics: OtlpMetricPoint[]; metricExports: OtlpExport[] };
  readonly sessions: {
    events: SessionEvent[];
    violations: SessionViolation[];
    finals: SessionFinal[];
    /** Currently open nvext sessions → timeout seconds. */
    open: Map<string, number>;
  };
  readonly faults: SimulatorFaults;
  /** Chat requests only, in arrival order. */
  chatRequests(): RecordedRequest[];
  waitFor<T>(predicate: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>>;
  /** One-line counts of everything recorded (used in timeout messages). */
  summary(): string;
  /** Forget recorded traffic (requests, relay, spans, sessions); faults and generation stay. */
  clear(): void;
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  let generation: DynamoGeneration = opts.generation ?? "headers";
  let serving: ServingProfile = { ...opts.serving };
  const log = opts.log ?? (() => {});
  const faults = new Faults();
  let sessions = new SessionTracker();
  const requests: RecordedRequest[] = [];
  const relay = { accepted: [] as RelayMessage[], rejected: [] as RelayRejection[] };
  const otlp = { spans: [] as OtlpSpan[], exports: [] as OtlpExport[], metrics: [] as OtlpMetricPoint[], metricExports: [] as OtlpExport[] };

  const started: { close(): Promise<void> }[] = [];
  let frontend: Listening;
  let collector: Listening;
  let receiver: RelayReceiver;
  try {
    frontend = await startFrontend({
      generation: () => generation,
      models: opts.models ?? ["mock-model"],
      faults,
      // Indirection so clear() can swap the tracker.
      get sessions() {
        return sessions;
      },
      requests,
      errorBodyStyle: opts.errorBodyStyle ?? "dynamo",
      serving: () => serving,
      log,
      ...(opts.onRequest ? { onRequest: opts.onRequest } : {}),
    });
    started.push(frontend);
    collector = await startOtlpReceiver({ faults, spans: otlp.spans, exports: otlp.exports, metrics: otlp.metrics, metricExports: otlp.metricExports, log });
    started.push(collector);
    receiver = await startRelay({
      generation: () => generation,
      ...(opts.topic !== undefined ? { topic: opts.topic } : {}),
      accepted: relay.accepted,
      rejected: relay.rejected,
      log,
    });
    started.push(receiver);
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw err;
  }

  const summary = (): string => {
    const chats = requests.filter((r) => r.kind === "chat");
    return [
      `generation ${generation}`,
      `requests ${requests.length} (chat ${chats.length}, rejected ${chats.filter((r) => r.rejection).length})`,
      `relay accepted ${relay.accepted.length} rejected ${relay.rejected.length}`,
      `otlp exports ${otlp.exports.length} spans ${otlp.spans.length}`,
    ].join(", ");
  };

  let closing: Promise<void> | undefined;
  const sim: Simulator = {
    baseUrl: `http://127.0.0.1:${frontend.port}/v1`,
    otlpUrl: `http://127.0.0.1:${collector.port}/v1/traces`,
    zmqEndpoint: receiver.endpoint,
    get generation() {
      return generation;
    },
    setServing(profile) {
      serving = { ...profile };
    },
    setGeneration(g) {
      generation = g;
      log(`[sim] generation -> ${g}`);
    },
    requests,
    relay,
    otlp,
    get sessions() {
      return { events: sessions.events, violations: sessions.violations, finals: sessions.finals, open: sessions.open };
    },
    faults: {
      chat: (...f) => faults.pushChat(...f),
      get pendingChat() {
        return faults.pendingChat;
      },
      models: (m) => faults.setModels(m),
      otlp: (m) => faults.setOtlp(m),
      reset: () => faults.reset(),
    },
    chatRequests: () => requests.filter((r) => r.kind === "chat"),
    waitFor: (predicate, timeoutMs, what) => waitFor(predicate, timeoutMs, what, summary),
    summary,
    clear() {
      requests.length = 0;
      relay.accepted.length = 0;
      relay.rejected.length = 0;
      otlp.spans.length = 0;
      otlp.exports.length = 0;
      otlp.metrics.length = 0;
      otlp.metricExports.length = 0;
      sessions = new SessionTracker();
    },
    close() {
      closing ??= Promise.all(started.map((s) => s.close())).then(() => undefined);
      return closing;
    },
  };
  return sim;
}
