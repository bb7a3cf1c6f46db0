export { createDynamoProvider, API_KEY_ENV } from "./provider.ts";
export { DynamoSessions } from "./session.ts";
export { ProtocolState, isNvextRejection } from "./protocol.ts";
export type { ProviderDeps } from "./deps.ts";
