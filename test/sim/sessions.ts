// KV-session bookkeeping for the nvext generation (Dynamo 1.2 `session_control`), plus the
// session-final markers of the headers generation. Records; never refuses a request.
import type { SessionEvent, SessionFinal, SessionViolation } from "./types.ts";

export class SessionTracker {
  readonly events: SessionEvent[] = [];
  readonly violations: SessionViolation[] = [];
  readonly finals: SessionFinal[] = [];
  /** Open sessions → idle timeout in seconds (Dynamo's default 300 when `open` had none). */
  readonly open = new Map<string, number>();

  control(sc: { session_id: string; action?: "open" | "close"; timeout?: number }, requestIndex: number): void {
    const id = sc.session_id;
    if (sc.action === "open") {
      if (this.open.has(id)) this.violations.push({ sessionId: id, requestIndex, reason: "open of a session that is already open" });
      this.open.set(id, sc.timeout ?? 300);
      this.events.push({ sessionId: id, action: "open", requestIndex, ...(sc.timeout !== undefined ? { timeout: sc.timeout } : {}) });
    } else if (sc.action === "close") {
      if (!this.open.delete(id)) this.violations.push({ sessionId: id, requestIndex, reason: "close of a session that is not open" });
      this.events.push({ sessionId: id, action: "close", requestIndex });
    } else {
      // Bare use resolves the affinity and refreshes the TTL; only meaningful after an open.
      if (!this.open.has(id)) this.violations.push({ sessionId: id, requestIndex, reason: "use of a session that was never opened" });
      this.events.push({ sessionId: id, action: "use", requestIndex });
    }
  }

  final(agentContext: Record<string, string | boolean>, requestIndex: number): void {
    const sessionId = String(agentContext.session_id);
    const parent = agentContext.parent_session_id;
    this.finals.push({ sessionId, requestIndex, ...(typeof parent === "string" ? { parentSessionId: parent } : {}) });
  }
}
