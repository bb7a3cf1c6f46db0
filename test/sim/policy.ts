// Scripted turn policy: decides what the simulated model answers, from the request body alone.
// It always terminates: every tool directive is answered once, then text. See README.md for the syntax.

export const INTERNAL_CONTEXT_MARKER = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>";
export const SUBAGENT_CONTEXT_MARKER = "[Subagent Context]";
export const SUBAGENT_TASK_MARKER = "[Subagent Task]";
const ANNOUNCE_MARKERS = ["A background task completed", "source: subagent"];
const DEFAULT_READ_PATH = "hello.txt";
const TOOL_RESULT_PREVIEW = 200;
// OpenClaw prefixes user text with a bracketed timestamp, e.g. `[Sat 2026-11-21 09:23 UTC] `.
const TIMESTAMP_PREFIX = /^\[[^\]\n]{1,80}\]\s*/;

export type DirectiveVerb = "read" | "exec" | "spawn" | "text";
const VERBS = new Set<string>(["read", "exec", "spawn", "text"]);

export interface Directive {
  verb: DirectiveVerb;
  arg: string;
}

export type PolicyAnswer =
  | { type: "tool"; name: string; args: Record<string, unknown>; policy: string }
  | { type: "text"; text: string; policy: string };

// `[[sim:verb arg…]]` for the message it appears in; `{{sim:verb arg…}}` is the same directive one
// level down (inside a spawn task it is inert for the lead and live for the subagent).
const LEAD_RE = /\[\[sim:([a-z]+)(?:\s+([\s\S]*?))?\s*\]\]/g;
const CHILD_RE = /\{\{sim:([a-z]+)(?:\s+([\s\S]*?))?\s*\}\}/g;

/** Parse directives in order of appearance. `subagent` also enables the `{{sim:…}}` form. */
export function parseDirectives(text: string, subagent = false): Directive[] {
  const found: { at: number; end: number; directive: Directive }[] = [];
  const collect = (re: RegExp, skipInside: { at: number; end: number }[]): void => {
    for (const m of text.matchAll(re)) {
      const verb = m[1] ?? "";
      if (!VERBS.has(verb)) continue;
      const at = m.index;
      // A `{{sim:…}}` inside a `[[sim:spawn …]]` belongs to the spawned child, not to this agent.
      if (skipInside.some((s) => at > s.at && at < s.end)) continue;
      found.push({ at, end: at + m[0].length, directive: { verb: verb as DirectiveVerb, arg: (m[2] ?? "").trim() } });
    }
  };
  collect(LEAD_RE, []);
  if (subagent) collect(CHILD_RE, [...found]);
  return found.sort((a, b) => a.at - b.at).map((f) => f.directive);
}

/** Text of an OpenAI message `content` (string or array of `{type:"text", text}` parts). */
export function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (typeof part === "string") return part;
        if (part && typeof part === "object" && typeof (part as { text?: unknown }).text === "string") {
          return (part as { text: string }).text;
        }
        return "";
      })
      .filter((s) => s !== "")
      .join("\n");
  }
  return "";
}

interface ChatMessage {
  role?: unknown;
  content?: unknown;
  tool_calls?: unknown;
}

export function isInternalContext(text: string): boolean {
  const t = text.trimStart();
  return t.startsWith(INTERNAL_CONTEXT_MARKER) || t.replace(TIMESTAMP_PREFIX, "").startsWith(INTERNAL_CONTEXT_MARKER);
}

/** The child's prompt: `[Subagent Context] …` (possibly after a timestamp prefix). */
export function isSubagentPrompt(text: string): boolean {
  const t = text.trimStart();
  return t.startsWith(SUBAGENT_CONTEXT_MARKER) || t.replace(TIMESTAMP_PREFIX, "").startsWith(SUBAGENT_CONTEXT_MARKER);
}

export function isAnnounce(text: string): boolean {
  return ANNOUNCE_MARKERS.some((m) => text.includes(m));
}

function offeredTools(body: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  if (!Array.isArray(body.tools)) return names;
  for (const tool of body.tools as unknown[]) {
    if (!tool || typeof tool !== "object") continue;
    const t = tool as { name?: unknown; function?: { name?: unknown } };
    const name = t.function?.name ?? t.name;
    if (typeof name === "string") names.add(name);
  }
  return names;
}

/** True for the plugin's minimal close / session-final request (`max_tokens: 1`). */
export function isMinimalRequest(body: Record<string, unknown>): boolean {
  return body.max_tokens === 1 || body.max_completion_tokens === 1;
}

type PlannedTool = { name: string; args: Record<string, unknown>; label: string };

function planTool(d: Directive, tools: Set<string>): PlannedTool | undefined {
  switch (d.verb) {
    case "read":
      return { name: "read", args: { path: d.arg || DEFAULT_READ_PATH }, label: `read ${d.arg}` };
    case "exec":
      return { name: "exec", args: { command: d.arg }, label: `exec ${d.arg}` };
    case "spawn": {
      const args = { task: d.arg, label: "reader" };
      // OpenClaw 2026.9.6 exposes sessions_spawn only through the Tool Search bridge.
      if (tools.has("tool_call")) return { name: "tool_call", args: { id: "sessions_spawn", args }, label: "spawn" };
      if (tools.has("sessions_spawn")) return { name: "sessions_spawn", args, label: "spawn (direct)" };
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Decide the answer to one chat request. Pure function of the request body. */
export function decideTurn(rawBody: unknown): PolicyAnswer {
  const body = (rawBody && typeof rawBody === "object" ? rawBody : {}) as Record<string, unknown>;
  if (isMinimalRequest(body)) return { type: "text", text: ".", policy: "minimal" };

  const messages = (Array.isArray(body.messages) ? body.messages : []) as ChatMessage[];
  let lastUser = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === "user" && !isInternalContext(messageText(m.content))) {
      lastUser = i;
      break;
    }
  }
  if (lastUser < 0) return { type: "text", text: "Hello from the Dynamo simulator.", policy: "no-user-message" };

  const userText = messageText(messages[lastUser]?.content);
  // Announce runs must never get a tool call, or OpenClaw keeps spawning.
  if (isAnnounce(userText)) return { type: "text", text: "The subagent finished its task.", policy: "announce" };

  const subagent = messages.some((m) => m?.role === "user" && isSubagentPrompt(messageText(m.content)));
  const taskAt = userText.indexOf(SUBAGENT_TASK_MARKER);
  const source = subagent && taskAt >= 0 ? userText.slice(taskAt + SUBAGENT_TASK_MARKER.length) : userText;
  const directives = parseDirectives(source, subagent);

  const tools = offeredTools(body);
  const planned: PlannedTool[] = [];
  let finalText: string | undefined;
  for (const d of directives) {
    if (d.verb === "text") finalText = finalText === undefined ? d.arg : `${finalText} ${d.arg}`;
    else {
      const p = planTool(d, tools);
      if (p) planned.push(p);
    }
  }
  if (directives.length === 0) planned.push({ name: "read", args: { path: DEFAULT_READ_PATH }, label: "default read" });

  const after = messages.slice(lastUser + 1);
  const done = after.filter(
    (m) => m?.role === "assistant" && Array.isArray(m.tool_calls) && (m.tool_calls as unknown[]).length > 0,
  ).length;
  const next = planned[done];
  if (next) {
    return { type: "tool", name: next.name, args: next.args, policy: `directive ${done + 1}/${planned.length}: ${next.label}` };
  }

  const base = finalText ?? "Done.";
  const lastTool = [...after].reverse().find((m) => m?.role === "tool");
  const text =
    lastTool === undefined
      ? base
      : `${base} Last tool result: ${messageText(lastTool.content).slice(0, TOOL_RESULT_PREVIEW)}`;
  return { type: "text", text, policy: subagent ? "final text (subagent)" : "final text" };
}
