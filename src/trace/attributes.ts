/**
 * Attribute keys written on the plugin's spans. Both vocabularies go on every span so that Jaeger
 * (OTel GenAI semantic conventions) and Arize Phoenix (OpenInference) render it (SPEC §3.2), plus
 * the `dynamo.*` correlation keys that join spans to Dynamo's own records (SPEC §4.1).
 *
 * The relay (src/relay) reads tool spans through these keys only, so this file is the contract
 * between the span tree and everything that consumes it.
 */

/** OTel GenAI semantic conventions (`@opentelemetry/semantic-conventions/incubating`, 1.45). */
export const GEN_AI = {
  OPERATION_NAME: "gen_ai.operation.name",
  PROVIDER_NAME: "gen_ai.provider.name",
  REQUEST_MODEL: "gen_ai.request.model",
  RESPONSE_MODEL: "gen_ai.response.model",
  RESPONSE_ID: "gen_ai.response.id",
  RESPONSE_FINISH_REASONS: "gen_ai.response.finish_reasons",
  AGENT_NAME: "gen_ai.agent.name",
  AGENT_ID: "gen_ai.agent.id",
  CONVERSATION_ID: "gen_ai.conversation.id",
  TOOL_NAME: "gen_ai.tool.name",
  TOOL_CALL_ID: "gen_ai.tool.call.id",
  TOOL_TYPE: "gen_ai.tool.type",
  TOOL_CALL_ARGUMENTS: "gen_ai.tool.call.arguments",
  TOOL_CALL_RESULT: "gen_ai.tool.call.result",
  USAGE_INPUT_TOKENS: "gen_ai.usage.input_tokens",
  USAGE_OUTPUT_TOKENS: "gen_ai.usage.output_tokens",
  USAGE_CACHE_READ_INPUT_TOKENS: "gen_ai.usage.cache_read.input_tokens",
  USAGE_CACHE_CREATION_INPUT_TOKENS: "gen_ai.usage.cache_creation.input_tokens",
  INPUT_MESSAGES: "gen_ai.input.messages",
  OUTPUT_MESSAGES: "gen_ai.output.messages",
  ERROR_TYPE: "error.type",
  SERVER_ADDRESS: "server.address",
  SERVER_PORT: "server.port",
} as const;

/** `gen_ai.operation.name` values used here. */
export const OPERATION = {
  INVOKE_AGENT: "invoke_agent",
  CHAT: "chat",
  EXECUTE_TOOL: "execute_tool",
} as const;

/** OpenInference (`@arizeai/openinference-semantic-conventions` 2.12). */
export const OPENINFERENCE = {
  SPAN_KIND: "openinference.span.kind",
  SESSION_ID: "session.id",
  AGENT_NAME: "agent.name",
  LLM_MODEL_NAME: "llm.model_name",
  LLM_PROVIDER: "llm.provider",
  LLM_SYSTEM: "llm.system",
  LLM_TOKEN_PROMPT: "llm.token_count.prompt",
  LLM_TOKEN_COMPLETION: "llm.token_count.completion",
  LLM_TOKEN_TOTAL: "llm.token_count.total",
  LLM_TOKEN_CACHE_READ: "llm.token_count.prompt_details.cache_read",
  LLM_TOKEN_CACHE_WRITE: "llm.token_count.prompt_details.cache_write",
  LLM_FINISH_REASON: "llm.finish_reason",
  TOOL_NAME: "tool.name",
  TOOL_CALL_ID: "tool_call.id",
  INPUT_VALUE: "input.value",
  INPUT_MIME_TYPE: "input.mime_type",
  OUTPUT_VALUE: "output.value",
  OUTPUT_MIME_TYPE: "output.mime_type",
  PROJECT_NAME: "openinference.project.name",
} as const;

/** `openinference.span.kind` values used here. */
export const SPAN_KIND = {
  AGENT: "AGENT",
  LLM: "LLM",
  TOOL: "TOOL",
} as const;

/** Dynamo correlation keys (SPEC §3.2, §4.1). */
export const DYNAMO = {
  SESSION_ID: "dynamo.session_id",
  TRAJECTORY_ID: "dynamo.trajectory_id",
  PARENT_TRAJECTORY_ID: "dynamo.parent_trajectory_id",
  X_REQUEST_ID: "dynamo.x_request_id",
  SESSION_TYPE_ID: "dynamo.session_type_id",
  PROTOCOL: "dynamo.protocol",
  /** UTF-8 byte length of a tool result (a size, never the content); feeds the relay's `output_bytes`. */
  TOOL_OUTPUT_BYTES: "dynamo.tool.output_bytes",
  /** `running` | `succeeded` | `error` | `cancelled`, as Dynamo's tool records spell it. */
  TOOL_STATUS: "dynamo.tool.status",
} as const;

/** OpenClaw identifiers that are useful when reading a trace next to OpenClaw's own logs. */
export const OPENCLAW = {
  RUN_ID: "openclaw.run.id",
  RUN_KIND: "openclaw.run.kind",
  SESSION_KEY: "openclaw.session.key",
  SUBAGENT_LABEL: "openclaw.subagent.label",
  TOOL_BRIDGE: "openclaw.tool.bridge",
  TOOL_INNER_CALL_ID: "openclaw.tool.inner_call_id",
} as const;

/** Provider values: OpenClaw talks to Dynamo through the OpenAI chat-completions API family. */
export const PROVIDER_NAME = "dynamo";
export const LLM_SYSTEM = "openai";
