/**
 * Value parsers for settings (docs/settings.md). Each parser has two entries: `env` gets a trimmed,
 * non-empty string; `config` gets whatever JSON value the user wrote under `plugins.entries.dynamo.config`.
 * Both return the value or what was expected, for the one warning load.ts writes. Pure; never throw.
 */
import { parseKeyPairsIntoRecord } from "@opentelemetry/core";
import { parseEndpoint } from "../relay/endpoint.ts";

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly expected: string };

export interface Parser<T> {
  readonly env: (raw: string) => Result<T>;
  readonly config: (raw: unknown) => Result<T>;
}

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const bad = <T>(expected: string): Result<T> => ({ ok: false, expected });

/** The same check for env and config, for settings that are strings in both. */
function stringParser(expected: string, check: (value: string) => string | undefined): Parser<string> {
  const parse = (raw: unknown): Result<string> => {
    const value = typeof raw === "string" ? check(raw) : undefined;
    return value === undefined ? bad(expected) : ok(value);
  };
  return { env: parse, config: parse };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const TRUTHY = ["1", "true", "yes", "on"];
const FALSY = ["0", "false", "no", "off"];

export const bool: Parser<boolean> = {
  env: (raw) => {
    const word = raw.toLowerCase();
    if (TRUTHY.includes(word)) return ok(true);
    if (FALSY.includes(word)) return ok(false);
    return bad(`one of ${[...TRUTHY, ...FALSY].join(", ")} (case-insensitive)`);
  },
  config: (raw) => (typeof raw === "boolean" ? ok(raw) : bad("true or false")),
};

/** One of `values`; env is case-insensitive, config exact. `hints` maps a known wrong value to its own message. */
export function oneOf<const V extends string>(values: readonly V[], hints: Readonly<Record<string, string>> = {}): Parser<V> {
  const parse = (raw: unknown, fold: boolean, suffix: string): Result<V> => {
    const word = typeof raw === "string" && fold ? raw.toLowerCase() : raw;
    const value = values.find((candidate) => candidate === word);
    if (value !== undefined) return ok(value);
    const hint = typeof raw === "string" ? hints[raw.toLowerCase()] : undefined;
    return bad(hint ?? `one of ${values.join(", ")}${suffix}`);
  };
  return { env: (raw) => parse(raw, true, " (case-insensitive)"), config: (raw) => parse(raw, false, "") };
}

/** A positive integer up to `max`; `unit` reads e.g. " (milliseconds)". */
export function positiveInt(max: number, unit = ""): Parser<number> {
  const limit = max < Number.MAX_SAFE_INTEGER ? ` no greater than ${max}` : "";
  const expected = `a positive integer${unit}${limit}`;
  const check = (value: number): Result<number> => (Number.isSafeInteger(value) && value >= 1 && value <= max ? ok(value) : bad(expected));
  return {
    env: (raw) => (/^\d+$/.test(raw) ? check(Number(raw)) : bad(expected)),
    config: (raw) => (typeof raw === "number" ? check(raw) : bad(expected)),
  };
}

const RATIO_EXPECTED = "a number from 0 to 1";
const inUnitInterval = (raw: unknown): Result<number> =>
  typeof raw === "number" && Number.isFinite(raw) && raw >= 0 && raw <= 1 ? ok(raw) : bad(RATIO_EXPECTED);

export const ratio: Parser<number> = {
  env: (raw) => (/^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(raw) ? inUnitInterval(Number(raw)) : bad(RATIO_EXPECTED)),
  config: inUnitInterval,
};

/** Ids and the topic end up in HTTP headers, JSON bodies and ZMQ frames. */
export const MAX_ID_LENGTH = 256;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;
const CONTROL_CHARS = /[\x00-\x1f\x7f]/;

export const headerSafeId = stringParser(`a non-empty string of printable ASCII characters, at most ${MAX_ID_LENGTH} long`, (value) =>
  PRINTABLE_ASCII.test(value) && value.length <= MAX_ID_LENGTH ? value : undefined,
);

export const plainText = stringParser(`a non-empty string without control characters, at most ${MAX_ID_LENGTH} long`, (value) =>
  value !== "" && !CONTROL_CHARS.test(value) && value.length <= MAX_ID_LENGTH ? value : undefined,
);

export const apiKey = stringParser("a non-empty string of printable ASCII characters", (value) => (PRINTABLE_ASCII.test(value) ? value : undefined));

export function parseHttpUrl(value: string): URL | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
}

/**
 * Dynamo frontend root as the provider uses it (`<baseUrl>/models`, `<baseUrl>/chat/completions`):
 * a bare origin gets `/v1`, trailing slashes go. `undefined` when not an http(s) URL, or when it has
 * credentials, a query or a fragment.
 */
export function normalizeBaseUrl(value: string): string | undefined {
  const url = parseHttpUrl(value);
  if (url === undefined || url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") return undefined;
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}${path === "" ? "/v1" : path}`;
}

export const baseUrl = stringParser(
  "an http:// or https:// URL without credentials, query or fragment, e.g. http://127.0.0.1:8000/v1",
  normalizeBaseUrl,
);

export const otlpUrl = stringParser("an http:// or https:// URL, e.g. http://localhost:4318/v1/traces", (value) =>
  parseHttpUrl(value) === undefined ? undefined : value,
);

const ZMQ_EXPECTED = "tcp://<host>:<port> (port 1-65535) or ipc://<path>";

/** Why the relay could not connect to `value`, or `undefined` when it can: the relay's own parser decides. */
export function zmqEndpointProblem(value: string): string | undefined {
  try {
    parseEndpoint(value);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : "not a ZeroMQ endpoint";
  }
}

const zmqParse = (raw: unknown): Result<string> => {
  if (typeof raw !== "string") return bad(ZMQ_EXPECTED);
  const problem = zmqEndpointProblem(raw);
  return problem === undefined ? ok(raw) : bad(`${ZMQ_EXPECTED} (${problem})`);
};

export const zmqEndpoint: Parser<string> = { env: zmqParse, config: zmqParse };

export type StringMap = Readonly<Record<string, string>>;

/** `k=v,k2=v2` (W3C-baggage-like, values URL-decoded); one malformed entry rejects the whole value. */
export function keyPairList(raw: string): StringMap | undefined {
  const pairs: [string, string][] = [];
  for (const entry of raw.split(",")) {
    if (entry.trim() === "") continue;
    const parsed = Object.entries(parseKeyPairsIntoRecord(entry));
    if (parsed.length !== 1) return undefined;
    pairs.push(parsed[0]!);
  }
  return Object.fromEntries(pairs);
}

function stringRecord(raw: unknown): StringMap | undefined {
  if (!isPlainObject(raw)) return undefined;
  const entries = Object.entries(raw);
  return entries.every((entry): entry is [string, string] => typeof entry[1] === "string") ? Object.fromEntries(entries) : undefined;
}

function stringMap(valid: (record: StringMap) => boolean, envExpected: string, configExpected: string): Parser<StringMap> {
  const check = (record: StringMap | undefined, expected: string): Result<StringMap> =>
    record !== undefined && valid(record) ? ok(record) : bad(expected);
  return { env: (raw) => check(keyPairList(raw), envExpected), config: (raw) => check(stringRecord(raw), configExpected) };
}

// RFC 9110 field-name token, and the field-value characters Node's HTTP client accepts.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export const headers = stringMap(
  (record) => Object.entries(record).every(([name, value]) => HEADER_NAME.test(name) && HEADER_VALUE.test(value)),
  "comma-separated name=value pairs (values URL-encoded, valid HTTP header names), e.g. x-project-name=my-project",
  "an object mapping valid HTTP header names (RFC 9110 tokens) to string values without control characters",
);

export const attributes = stringMap(
  (record) => Object.keys(record).every((name) => name !== ""),
  "comma-separated key=value pairs (values URL-encoded), e.g. deployment.environment=dev,team=infra",
  "an object mapping attribute names to string values",
);

/** `all`, `none` or a comma-separated list of `classes` (env words → result keys); config is per key. */
export function classList<const K extends string>(classes: Readonly<Record<string, K>>): Parser<Readonly<Record<K, boolean>>> {
  const keys = Object.values(classes);
  const flags = (on: boolean) => Object.fromEntries(keys.map((key) => [key, on])) as Record<K, boolean>;
  return {
    env: (raw) => {
      const words = raw.toLowerCase().split(",").map((word) => word.trim()).filter((word) => word !== "");
      if (words.length === 1 && words[0] === "none") return ok(flags(false));
      if (words.length === 1 && words[0] === "all") return ok(flags(true));
      if (words.length === 0 || !words.every((word) => Object.hasOwn(classes, word))) {
        return bad(`"all", "none", or a comma-separated list of ${Object.keys(classes).join(", ")}`);
      }
      return ok({ ...flags(false), ...Object.fromEntries(words.map((word) => [classes[word], true])) });
    },
    config: () => bad("an object"),
  };
}
