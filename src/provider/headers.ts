/**
 * Case-insensitive header helpers. OpenClaw hands the wrapper a plain object whose keys may be in
 * any case; HTTP treats them case-insensitively, so "replace" must drop every casing of a name.
 */

export type Headers = Record<string, string>;

export function getHeader(headers: Headers | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === wanted) return headers[key];
  }
  return undefined;
}

/** A copy of `headers` with every casing of the given names removed. */
export function withoutHeaders(headers: Headers | undefined, names: readonly string[]): Headers {
  const drop = new Set(names.map((name) => name.toLowerCase()));
  const out: Headers = {};
  if (!headers) return out;
  for (const key of Object.keys(headers)) {
    if (!drop.has(key.toLowerCase())) out[key] = headers[key] as string;
  }
  return out;
}
