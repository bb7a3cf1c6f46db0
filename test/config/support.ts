import { expect } from "vitest";
import { CONFIG_PATH, loadConfig } from "../../src/config/index.ts";
import type { DynamoPluginConfig } from "../../src/types.ts";

export type Env = Record<string, string | undefined>;
export type Expected = Partial<Omit<DynamoPluginConfig, "capture">> & { capture?: Partial<DynamoPluginConfig["capture"]> };

export const cfg = (key: string): string => `${CONFIG_PATH}.${key}`;

export function expectClean(pluginConfig: unknown, env: Env): DynamoPluginConfig {
  const { config, warnings } = loadConfig(pluginConfig, env);
  expect(warnings).toEqual([]);
  return config;
}
