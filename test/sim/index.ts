// Public API of the Dynamo simulator (test code; also used by `npm run demo`). See README.md.
export { startSimulator } from "./simulator.ts";
export type { Simulator, SimulatorFaults, SimulatorOptions } from "./simulator.ts";
export type {
  ChatFault,
  DynamoGeneration,
  ErrorBodyStyle,
  ModelsMode,
  OtlpAttributes,
  OtlpExport,
  OtlpMode,
  OtlpSpan,
  OtlpValue,
  RecordedRequest,
  RelayMessage,
  RelayRejection,
  RequestKind,
  SessionEvent,
  SessionFinal,
  SessionViolation,
  SimToolCall,
} from "./types.ts";
export { decideTurn, parseDirectives, messageText } from "./policy.ts";
export type { Directive, PolicyAnswer } from "./policy.ts";
export { validateToolRecord, G1_SCHEMA, G3_SCHEMA } from "./relay-validate.ts";
export { DEFAULT_TOPIC } from "./relay.ts";
export { decodeJsonSpans, decodeProtobufSpans } from "./otlp-normalize.ts";
export { waitFor } from "./wait.ts";
export { decodeJsonMetrics, decodeProtobufMetrics } from "./otlp-metrics.ts";
export type { OtlpMetricPoint } from "./otlp-metrics.ts";
export type { ServingProfile, WorkerId } from "./serving.ts";
export { DEFAULT_WORKER_ID } from "./serving.ts";
