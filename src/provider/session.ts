/**
 * Dynamo session lifecycle for agent runs (SPEC §4.2, §4.3).
 *
 * Dynamo 1.2 (`nvext`): a subagent run is pinned to one worker for KV isolation with
 * `session_control` — `open` on its first request, bare `session_id` afterwards, and a separate
 * minimal close request when the run ends. The lead agent is never pinned (reference lifecycle:
 * ai-dynamo/agent-plugins `DynamoSubagentSession`, commit 4e44400).
 * Dynamo 1.3+ (`headers`): no session control; a minimal request with `x-dynamo-session-final:
 * true` marks a chain finished — for a subagent when its run ends, for the lead's chains when the
 * lead's OpenClaw session ends (dynamo-wire.md §3.2).
 * Terminal requests are best effort: 5 s timeout, failures logged and counted, never thrown;
 * each chain is closed at most once.
 */
import { randomUUID } from "node:crypto";
import type { AgentRun } from "../trace/span-tree.ts";
import type { DynamoProtocol } from "../types.ts";
import {
  PARENT_SESSION_ID_HEADER,
  SESSION_FINAL_HEADER,
  SESSION_ID_HEADER,
  type SessionControl,
} from "./identity.ts";

export const TERMINAL_REQUEST_TIMEOUT_MS = 5_000;

interface ChainState {
  readonly run: AgentRun;
  /** Protocol the chain was opened under (nvext) or seen with (headers). */
  protocol: DynamoProtocol;
  opened: boolean;
  terminated: boolean;
}

export interface SessionCounters {
  opened: number;
  closed: number;
  finals: number;
  failed: number;
}

export interface DynamoSessionsOptions {
  readonly baseUrl: string;
  readonly apiKey: () => string;
  readonly timeoutSeconds?: number | undefined;
  readonly traceparentOf: (run: AgentRun) => string | undefined;
  readonly log: { warn(message: string): void; debug(message: string): void };
  readonly fetchImpl?: typeof fetch;
}

/** Chains remembered at most (each holds its run); pruning goes down to PRUNED_CHAINS. */
const MAX_CHAINS = 10_000;
const PRUNED_CHAINS = 9_000;

export class DynamoSessions {
  private readonly chains = new Map<string, ChainState>();
  private readonly options: DynamoSessionsOptions;
  /** Terminal requests on the wire → the trajectory id each one ends. */
  private readonly inFlight = new Map<Promise<void>, string>();
  readonly counters: SessionCounters = { opened: 0, closed: 0, finals: 0, failed: 0 };

  constructor(options: DynamoSessionsOptions) {
    this.options = options;
  }

  /** `nvext.session_control` for the next request of `run`, or undefined (lead runs). */
  controlFor(run: AgentRun): SessionControl | undefined {
    if (!run.isSubagent) return undefined;
    const chain = this.chainOf(run, "nvext");
    const control: SessionControl = { session_id: run.ids.trajectoryId };
    if (!chain.opened || chain.terminated) {
      chain.opened = true;
      chain.terminated = false;
      chain.protocol = "nvext";
      this.counters.opened++;
      control.action = "open";
      if (this.options.timeoutSeconds) control.timeout = this.options.timeoutSeconds;
    }
    return control;
  }

  /** Records that `run` sent a request under the headers protocol (so it gets a session-final). */
  noteHeadersRequest(run: AgentRun): void {
    const chain = this.chainOf(run, "headers");
    chain.protocol = "headers";
    chain.opened = true;
  }

  /** A run ended: subagent chains are closed / finalized now; lead chains wait for session end. */
  runEnded(run: AgentRun): void {
    if (run.isSubagent || run.kind === "subagent") this.terminate(run.ids.trajectoryId);
  }

  /** An OpenClaw session ended: terminate every chain of its runs still open. */
  sessionEnded(sessionKey: string | undefined, sessionId?: string | undefined): void {
    for (const [trajectoryId, chain] of this.chains) {
      const run = chain.run;
      if ((sessionKey && run.sessionKey === sessionKey) || (sessionId && run.sessionId === sessionId)) {
        this.terminate(trajectoryId);
      }
    }
  }

  /** Gateway stop / process exit: terminate everything still open and wait (bounded by the caller). */
  async terminateAll(): Promise<void> {
    for (const trajectoryId of this.chains.keys()) this.terminate(trajectoryId);
    await this.settled();
  }

  /** Resolves when every terminal request sent so far has finished. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.keys()]);
  }

  /** Trajectory ids whose close / session-final request has not finished yet. */
  pendingTerminations(): string[] {
    return [...this.inFlight.values()];
  }

  openChains(): Array<{ trajectoryId: string; protocol: DynamoProtocol; runKind: string }> {
    return [...this.chains.entries()]
      .filter(([, chain]) => chain.opened && !chain.terminated)
      .map(([trajectoryId, chain]) => ({ trajectoryId, protocol: chain.protocol, runKind: chain.run.kind }));
  }

  private chainOf(run: AgentRun, protocol: DynamoProtocol): ChainState {
    let chain = this.chains.get(run.ids.trajectoryId);
    if (!chain) {
      chain = { run, protocol, opened: false, terminated: false };
      this.chains.set(run.ids.trajectoryId, chain);
      if (this.chains.size > MAX_CHAINS) this.prune(run.ids.trajectoryId);
    }
    return chain;
  }

  /**
   * Bounds the map: forgets the oldest finished chains first; when it is still full of open ones
   * (lead chains whose OpenClaw session never ends), ends the oldest of those as Dynamo's idle
   * timeout would, sending its close / session-final, and forgets them too.
   */
  private prune(keep: string): void {
    for (const [key, old] of this.chains) {
      if (this.chains.size <= PRUNED_CHAINS) return;
      if (key !== keep && (old.terminated || !old.opened)) this.chains.delete(key);
    }
    for (const key of this.chains.keys()) {
      if (this.chains.size <= MAX_CHAINS) return;
      if (key === keep) continue;
      this.terminate(key);
      this.chains.delete(key);
    }
  }

  private terminate(trajectoryId: string): void {
    const chain = this.chains.get(trajectoryId);
    if (!chain || !chain.opened || chain.terminated) return;
    chain.terminated = true;
    const request =
      chain.protocol === "nvext" ? this.send(chain.run, "close") : this.send(chain.run, "final");
    this.inFlight.set(request, trajectoryId);
    void request.finally(() => this.inFlight.delete(request));
  }

  private async send(run: AgentRun, kind: "close" | "final"): Promise<void> {
    const { ids } = run;
    const headers: Record<string, string> = {
      "content-type": "application/json",
      authorization: `Bearer ${this.options.apiKey()}`,
      "x-request-id": randomUUID(),
    };
    const traceparent = this.options.traceparentOf(run);
    if (traceparent) headers.traceparent = traceparent;
    const body: Record<string, unknown> = {
      model: run.lastModel ?? "default",
      messages: [{ role: "user", content: "." }],
      max_tokens: 1,
      stream: false,
    };
    if (kind === "close") {
      body.nvext = { session_control: { session_id: ids.trajectoryId, action: "close" } };
    } else {
      headers[SESSION_ID_HEADER] = ids.trajectoryId;
      headers[SESSION_FINAL_HEADER] = "true";
      if (ids.parentTrajectoryId) headers[PARENT_SESSION_ID_HEADER] = ids.parentTrajectoryId;
    }
    const what = kind === "close" ? "session close" : "session-final";
    try {
      const response = await (this.options.fetchImpl ?? fetch)(`${this.options.baseUrl}/chat/completions`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(TERMINAL_REQUEST_TIMEOUT_MS),
      });
      await response.body?.cancel().catch(() => undefined);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      if (kind === "close") this.counters.closed++;
      else this.counters.finals++;
      this.options.log.debug(`Dynamo ${what} sent for ${ids.trajectoryId}`);
    } catch (error) {
      this.counters.failed++;
      const reason = error instanceof Error ? (error.name === "TimeoutError" ? "no answer within 5 s" : error.message) : String(error);
      this.options.log.warn(`Dynamo ${what} request for ${ids.trajectoryId} failed (${reason}); Dynamo's idle timeout will free it.`);
    }
  }
}
