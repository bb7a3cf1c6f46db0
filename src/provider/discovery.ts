/**
 * Model discovery: `GET <base>/models` on the Dynamo frontend (OpenAI list format), bounded by a
 * timeout so a slow or absent Dynamo never delays OpenClaw's start-up (SPEC §6: 2 s).
 */

export const DISCOVERY_TIMEOUT_MS = 2_000;

export type DiscoveryResult =
  | { readonly ok: true; readonly modelIds: readonly string[] }
  | { readonly ok: false; readonly reason: string };

export async function discoverModels(
  baseUrl: string,
  apiKey: string,
  timeoutMs: number = DISCOVERY_TIMEOUT_MS,
  fetchImpl: typeof fetch = fetch,
): Promise<DiscoveryResult> {
  let response: Response;
  try {
    response = await fetchImpl(`${baseUrl}/models`, {
      headers: { accept: "application/json", authorization: `Bearer ${apiKey}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return { ok: false, reason: timedOut ? `no answer within ${timeoutMs} ms` : describeFetchError(error) };
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    return { ok: false, reason: `HTTP ${response.status}` };
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return { ok: false, reason: "the answer is not JSON" };
  }
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return { ok: false, reason: "the answer has no `data` list" };
  const modelIds = data
    .map((entry) => (entry as { id?: unknown } | null)?.id)
    .filter((id): id is string => typeof id === "string" && id.trim().length > 0);
  return { ok: true, modelIds: [...new Set(modelIds)] };
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (cause?.code) return cause.code;
  return error instanceof Error ? error.message : String(error);
}
