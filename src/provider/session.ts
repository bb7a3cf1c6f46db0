/**
 * Dynamo session lifecycle for agent runs (SPEC §4.2, §4.3).
 *
 * A chain is one OpenClaw conversation (docs/identity.md): all runs of one session share it.
 * Dynamo 1.2 (`nvext`): a subagent's chain is pinned to one worker for KV isolation with
 * `session_control` — `open` until a request carrying it succeeded, bare `session_id` afterwards,
 * and a separate minimal close request when the subagent's run ends. The lead agent is never pinned (reference lifecycle:
 * ai-dynamo/agent-plugins `DynamoSubagentSession`, commit 4e44400).
 * Dynamo 1.3+ (`headers`): no session control; a minimal request with `x-dynamo-session-final:
 * true` marks a chain finished — for a subagent when its run ends, for the lead's chains when the
 * lead's OpenClaw session ends (dynamo-wire.md §3.2).
 * Terminal requests are best effort: 5 s timeout, failures logged and counted, never thrown;
 * each chain is closed at most once. They go where the chain's model requests went, with the same
 * credentials (OpenClaw's resolved provider base URL and key), not only to the plugin's defaults.
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

/** Where and how a chain's model requests were sent (reused by its close / session-final). */
export interface DynamoEndpoint {
  readonly baseUrl: string;
  readonly authorization?: string | undefined;
}

interface ChainState {
  /** The chain's latest run (model, traceparent and session of the terminal request). */
  run: AgentRun;
  endpoint: DynamoEndpoint | undefined;
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
  /** Used when no model request of the chain told where Dynamo is. */
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

  /**
   * `nvext.session_control` for the next request of `run`, or undefined (lead runs). It carries
   * `open` until one request carrying it succeeded (`openSettled`): a failed open opened nothing.
   */
  controlFor(run: AgentRun, endpoint?: DynamoEndpoint): SessionControl | undefined {
    if (!run.isSubagent) return undefined;
    const chain = this.chainOf(run, "nvext", endpoint);
    const control: SessionControl = { session_id: run.ids.trajectoryId };
    if (!chain.opened || chain.terminated) {
      chain.protocol = "nvext";
      control.action = "open";
      if (this.options.timeoutSeconds) control.timeout = this.options.timeoutSeconds;
    }
    return control;
  }

  /** The request that carried `open` for `run`'s chain finished: opened only if it succeeded. */
  openSettled(run: AgentRun, succeeded: boolean): void {
    const chain = this.chains.get(run.ids.trajectoryId);
    if (!succeeded || !chain || (chain.opened && !chain.terminated)) return;
    chain.opened = true;
    chain.terminated = false;
    this.counters.opened++;
  }

  /** Records that `run` sent a request under the headers protocol (so it gets a session-final). */
  noteHeadersRequest(run: AgentRun, endpoint?: DynamoEndpoint): void {
    const chain = this.chainOf(run, "headers", endpoint);
    chain.protocol = "headers";
    chain.opened = true;
    // A chain finalized earlier (a subagent's follow-up run) is live again in Dynamo.
    chain.terminated = false;
  }

  /**
   * A run ended: a one-shot subagent's chain is closed / finalized now; lead chains and `mode:
   * "session"` subagents (follow-ups may come) wait for their session's end.
   */
  runEnded(run: AgentRun): void {
    if ((run.isSubagent || run.kind === "subagent") && !run.chain?.persistent) this.terminate(run.ids.trajectoryId);
  }

  /** An OpenClaw session ended (not compaction): terminate its chain if still open. */
  sessionEnded(sessionKey: string | undefined, sessionId?: string | undefined): void {
    for (const [trajectoryId, chain] of this.chains) {
      const { run } = chain;
      const sessionIds = run.chain?.sessionIds ?? [];
      if ((sessionKey && run.sessionKey === sessionKey) || (sessionId && (run.sessionId === sessionId || sessionIds.includes(sessionId)))) {
        this.terminate(trajectoryId);
      }
    }
  }

  /**
   * Gateway stop / process exit: terminate what is still open and wait (bounded by the caller).
   * `leads: false` (a one-shot CLI exits) keeps the lead chains: their OpenClaw session lives on in
   * the state dir and the next process continues the chain (docs/identity.md); subagent sessions
   * pinned with `open` are always closed.
   */
  async terminateAll(options: { leads?: boolean } = {}): Promise<void> {
    const leads = options.leads ?? true;
    for (const [trajectoryId, chain] of this.chains) {
      if (leads || chain.run.isSubagent) this.terminate(trajectoryId);
    }
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

  private chainOf(run: AgentRun, protocol: DynamoProtocol, endpoint: DynamoEndpoint | undefined): ChainState {
    let chain = this.chains.get(run.ids.trajectoryId);
    if (!chain) {
      chain = { run, endpoint, protocol, opened: false, terminated: false };
      this.chains.set(run.ids.trajectoryId, chain);
      if (this.chains.size > MAX_CHAINS) this.prune(run.ids.trajectoryId);
    }
    chain.run = run;
    if (endpoint) chain.endpoint = endpoint;
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
    const request = this.send(chain.run, chain.protocol === "nvext" ? "close" : "final", chain.endpoint);
    this.inFlight.set(request, trajectoryId);
    void request.finally(() => this.inFlight.delete(request));
  }

  private async send(run: AgentRun, kind: "close" | "final", endpoint: DynamoEndpoint | undefined): Promise<void> {
    const { ids } = run;
    const headers: Record<string, string> = {
      "content-type": "application/json",
      authorization: endpoint?.authorization ?? `Bearer ${this.options.apiKey()}`,
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
      const response = await (this.options.fetchImpl ?? fetch)(`${endpoint?.baseUrl ?? this.options.baseUrl}/chat/completions`, {
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
