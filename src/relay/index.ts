export { DynamoToolRelayProcessor } from "./processor.ts";
export { DEFAULT_TOOL_ERROR_TYPE, toolEndRecord, toolStartRecord } from "./records.ts";
export type { RecordContext, ToolSpanEnd, ToolSpanStart } from "./records.ts";
export { toolClass } from "./tool-class.ts";
export { ToolEventTransport } from "./transport.ts";
export type {
  AgentTraceToolRecord,
  DynamoToolRelayOptions,
  RelayCounters,
  RelayLogger,
  RequestTraceToolRecord,
  ToolEventRecord,
  ToolEventTransportOptions,
  ToolEventType,
  ToolRecordTool,
  ToolRelayStatus,
  ToolStatus,
} from "./types.ts";
