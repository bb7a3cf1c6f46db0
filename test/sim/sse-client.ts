// Minimal client side of the simulator's chat API, for tests: post a chat request and assemble
// the SSE stream the way an OpenAI client would.

export interface AssembledStream {
  chunks: Record<string, unknown>[];
  sawDone: boolean;
  text: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

interface ChunkChoice {
  delta?: {
    content?: string | null;
    tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[];
  };
  finish_reason?: string | null;
}

/** Parse an SSE body (`data: …` events) into an assembled completion. Throws on a non-JSON data line. */
export function assembleSse(body: string): AssembledStream {
  const out: AssembledStream = { chunks: [], sawDone: false, text: "", toolCalls: [] };
  for (const event of body.split("\n\n")) {
    const line = event.trim();
    if (!line.startsWith("data:")) continue;
    const data = line.slice("data:".length).trim();
    if (data === "[DONE]") {
      out.sawDone = true;
      continue;
    }
    const chunk = JSON.parse(data) as Record<string, unknown>;
    out.chunks.push(chunk);
    if (chunk.usage) out.usage = chunk.usage as AssembledStream["usage"];
    for (const choice of (chunk.choices ?? []) as ChunkChoice[]) {
      if (choice.delta?.content) out.text += choice.delta.content;
      for (const tc of choice.delta?.tool_calls ?? []) {
        const slot = (out.toolCalls[tc.index] ??= { id: "", name: "", arguments: "" });
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.name = tc.function.name;
        if (tc.function?.arguments) slot.arguments += tc.function.arguments;
      }
      if (choice.finish_reason) out.finishReason = choice.finish_reason;
    }
  }
  return out;
}

export async function postChat(
  baseUrl: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** Streamed chat turn: `{model, stream: true, stream_options: {include_usage: true}, messages, …extra}`. */
export async function streamChat(
  baseUrl: string,
  messages: unknown[],
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ status: number; stream?: AssembledStream; errorText?: string }> {
  const res = await postChat(baseUrl, { model: "mock-model", stream: true, stream_options: { include_usage: true }, messages, ...extra }, headers);
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, errorText: text };
  return { status: res.status, stream: assembleSse(text) };
}
