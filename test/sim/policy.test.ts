import { describe, expect, it } from "vitest";
import { decideTurn, parseDirectives } from "./policy.ts";

const TOOLS = ["read", "exec", "tool_call", "tool_search"].map((name) => ({ type: "function", function: { name, parameters: {} } }));
const INTERNAL = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nActive subagents: none\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>";

const assistantCall = (id: string, name: string, args: unknown) => ({
  role: "assistant",
  content: null,
  tool_calls: [{ id, type: "function", function: { name, arguments: JSON.stringify(args) } }],
});
const toolResult = (id: string, content: unknown) => ({ role: "tool", tool_call_id: id, content });

describe("parseDirectives", () => {
  it("parses verbs in order and ignores unknown verbs", () => {
    const d = parseDirectives("a [[sim:read x.txt]] b [[sim:bogus 1]] [[sim:exec echo hi there]] [[sim:text All good]]");
    expect(d).toEqual([
      { verb: "read", arg: "x.txt" },
      { verb: "exec", arg: "echo hi there" },
      { verb: "text", arg: "All good" },
    ]);
  });

  it("treats {{sim:…}} as inert for the lead and live for a subagent, except inside a spawn", () => {
    const text = "[[sim:spawn Read {{sim:read hello.txt}} please]] {{sim:exec ls}}";
    expect(parseDirectives(text, false)).toEqual([{ verb: "spawn", arg: "Read {{sim:read hello.txt}} please" }]);
    // A subagent sees its own {{sim:exec}} but not the one meant for its own child.
    expect(parseDirectives(text, true)).toEqual([
      { verb: "spawn", arg: "Read {{sim:read hello.txt}} please" },
      { verb: "exec", arg: "ls" },
    ]);
  });
});

describe("decideTurn", () => {
  it("runs lead -> spawn -> child(read) -> announce from one user message", () => {
    const userMsg = { role: "user", content: "Go. [[sim:spawn Read the file {{sim:read hello.txt}} and report]] [[sim:text Lead finished.]]" };

    const lead1 = decideTurn({ messages: [{ role: "system", content: "sys" }, userMsg], tools: TOOLS });
    expect(lead1).toMatchObject({
      type: "tool",
      name: "tool_call",
      args: { id: "sessions_spawn", args: { task: "Read the file {{sim:read hello.txt}} and report", label: "reader" } },
    });

    const leadHistory = [
      { role: "system", content: "sys" },
      userMsg,
      assistantCall("c1", "tool_call", {}),
      toolResult("c1", '{"status":"accepted"}'),
      { role: "user", content: INTERNAL },
    ];
    const lead2 = decideTurn({ messages: leadHistory, tools: TOOLS });
    expect(lead2.type).toBe("text");
    expect(lead2).toMatchObject({ text: expect.stringContaining("Lead finished. Last tool result: {\"status\":\"accepted\"}") });

    const childUser = {
      role: "user",
      // As observed from OpenClaw 2026.9.6 (timestamp prefix included).
      content: [{
        type: "text",
        text:
          "[Sat 2026-11-21 09:23 UTC] [Subagent Context] You are running as a subagent (depth 1/5). Complete the current [Subagent Task]; " +
          "inherited conversation is background context, not your assignment.\n[Subagent Task]\nRead the file {{sim:read hello.txt}} and report\n" +
          "Begin. Execute the assigned task to completion.\nRuntime: agent=main | session=agent:main:subagent:0166",
      }],
    };
    const child1 = decideTurn({ messages: [{ role: "system", content: "sys" }, childUser], tools: TOOLS });
    expect(child1).toMatchObject({ type: "tool", name: "read", args: { path: "hello.txt" } });

    const child2 = decideTurn({
      messages: [childUser, assistantCall("c2", "read", { path: "hello.txt" }), toolResult("c2", "hello from the workspace file\n")],
      tools: TOOLS,
    });
    expect(child2).toMatchObject({ type: "text", text: "Done. Last tool result: hello from the workspace file\n", policy: "final text (subagent)" });

    // The announce run happens in the lead's session; its new user message must only get text.
    const announce = decideTurn({
      messages: [
        ...leadHistory,
        { role: "assistant", content: "Lead finished." },
        { role: "user", content: "[Tue 2026-11-17 10:00 UTC] A background task completed.\nsource: subagent\nsession_key: agent:main:subagent:abc" },
      ],
      tools: TOOLS,
    });
    expect(announce).toMatchObject({ type: "text", policy: "announce" });
  });

  it("uses the default script (read hello.txt, then text) without directives", () => {
    const first = decideTurn({ messages: [{ role: "user", content: "Please read hello.txt" }], tools: TOOLS });
    expect(first).toMatchObject({ type: "tool", name: "read", args: { path: "hello.txt" } });
    const second = decideTurn({
      messages: [{ role: "user", content: "Please read hello.txt" }, assistantCall("a", "read", { path: "hello.txt" }), toolResult("a", "hi")],
    });
    expect(second).toMatchObject({ type: "text", text: "Done. Last tool result: hi" });
  });

  it("answers several tool directives in order and skips the internal-context user message", () => {
    const user = { role: "user", content: "[[sim:exec echo one]] [[sim:read b.txt]]" };
    const msgs: unknown[] = [user];
    expect(decideTurn({ messages: msgs })).toMatchObject({ name: "exec", args: { command: "echo one" } });
    msgs.push(assistantCall("1", "exec", {}), toolResult("1", "one"), { role: "user", content: INTERNAL });
    expect(decideTurn({ messages: msgs })).toMatchObject({ name: "read", args: { path: "b.txt" } });
    msgs.push(assistantCall("2", "read", {}), toolResult("2", [{ type: "text", text: "B" }]), { role: "user", content: INTERNAL });
    expect(decideTurn({ messages: msgs })).toMatchObject({ type: "text", text: "Done. Last tool result: B" });
  });

  it("skips spawn when no tool_call bridge is offered, and answers minimal requests with '.'", () => {
    const r = decideTurn({ messages: [{ role: "user", content: "[[sim:spawn x]] [[sim:text ok]]" }], tools: [] });
    expect(r).toMatchObject({ type: "text", text: "ok" });
    const m = decideTurn({ messages: [{ role: "user", content: "." }], max_tokens: 1, stream: false });
    expect(m).toMatchObject({ type: "text", text: ".", policy: "minimal" });
  });
});
