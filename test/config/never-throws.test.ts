/** loadConfig never throws, whatever it is given. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CAPTURE_KEYS, CONFIG_KEYS, CONFIG_PATH, ENV_NAMES, loadConfig } from "../../src/config/index.ts";
import type { Env } from "./support.ts";

describe("never throws", () => {
  const envValue = fc.oneof(
    fc.string(),
    fc.string({ unit: "binary" }),
    fc.constantFrom("", " ", "1", "true", "off", "all", "none", "grpc", "http/json", "tcp://h:1", "http://h:1", "a=1,b", "0.5", "-1", "99999999999999999999"),
  );
  const anyEnv = fc.dictionary(fc.constantFrom(...ENV_NAMES), envValue);
  const configLike = fc.record(
    Object.fromEntries([...CONFIG_KEYS, "capture", "unknownKey"].map((key) => [key, fc.anything()])),
    { requiredKeys: [] },
  );

  function checkResult(result: ReturnType<typeof loadConfig>): void {
    expect(Object.isFrozen(result.config)).toBe(true);
    expect(Object.isFrozen(result.config.capture)).toBe(true);
    expect(typeof result.config.baseUrl).toBe("string");
    for (const warning of result.warnings) {
      expect(typeof warning.key).toBe("string");
      expect(typeof warning.message).toBe("string");
      expect(ENV_NAMES.includes(warning.key) || warning.key.startsWith(CONFIG_PATH)).toBe(true);
      expect(warning.message).not.toContain("could not be resolved");
    }
  }

  it("on arbitrary plugin config and env values", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), configLike), anyEnv, (pluginConfig, env) => {
        checkResult(loadConfig(pluginConfig, env));
      }),
      { numRuns: 500 },
    );
  });

  it("on arbitrary capture objects", () => {
    fc.assert(
      fc.property(fc.record({ capture: fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom(...CAPTURE_KEYS, "x"), fc.anything())) }), anyEnv, (pluginConfig, env) => {
        checkResult(loadConfig(pluginConfig, env));
      }),
      { numRuns: 300 },
    );
  });

  it("on hostile inputs: throwing getters, proxies, a missing env", () => {
    const throwing = Object.defineProperty({}, "baseUrl", {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
    const hostileEnv = new Proxy({}, {
      get() {
        throw new Error("boom");
      },
    }) as Env;
    for (const [pluginConfig, env] of [
      [throwing, {}],
      [{}, hostileEnv],
      [{}, undefined as unknown as Env],
      [{}, null as unknown as Env],
      [Object.create(null), {}],
      [new Map([["baseUrl", "http://x"]]), {}],
    ] as const) {
      const result = loadConfig(pluginConfig, env);
      expect(Object.isFrozen(result.config)).toBe(true);
    }
    expect(loadConfig(throwing, {}).warnings.map((w) => w.key)).toEqual([CONFIG_PATH]);
  });
});
