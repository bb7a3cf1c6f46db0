/**
 * Dynamo chains per OpenClaw conversation (docs/identity.md). A chain is one agent's conversation:
 * the lead's OpenClaw session or one subagent's. Its ids derive from the first run of that session
 * this plugin saw (docs/identity.md, "Ids"); every later run of the session — the next user turn,
 * the announce run, a `sessions_send` follow-up, a run after compaction — reuses them.
 *
 * Chains are found by OpenClaw session id first (the conversation: a reset or `/new` rotates it and
 * starts a new chain), by session key when a hook carries no session id. A context engine that
 * rotates the id at compaction names the next id (`session_end.nextSessionId`): that is an alias of
 * the same chain. Chains outlive the process through a `ChainStore` (./chain-store.ts).
 */
import { TraceFlags, type Link, type SpanContext } from "@opentelemetry/api";
import { BoundedMap } from "./bounded-map.ts";
import { TTL_MS } from "./tree-types.ts";
import type { DynamoIds } from "./ids.ts";

/** `link.kind` of the link from a later run's agent span to its chain's first agent span. */
export const CHAIN_LINK_KIND = "dynamo_chain_start";

/** The link a later run's agent span carries to the chain's first one (maybe in another trace or process). */
export function chainStartLink(chain: Chain): Link {
  return {
    context: { traceId: chain.first.traceId, spanId: chain.first.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true },
    attributes: { "link.kind": CHAIN_LINK_KIND },
  };
}

export type ChainKind = "lead" | "subagent";

export interface Chain {
  readonly ids: DynamoIds;
  readonly kind: ChainKind;
  /** The first run's `invoke_agent` span: later runs of the chain link to it. */
  readonly first: { readonly traceId: string; readonly spanId: string };
  sessionKey: string | undefined;
  /** The session ids this chain went by (more than one after an id rotation at compaction). */
  readonly sessionIds: string[];
  /**
   * A subagent spawned with `mode: "session"`: its session outlives each run (follow-ups come
   * through `sessions_send`), so its Dynamo session ends with the session, not with a run.
   */
  persistent?: boolean;
}

/** What a chain store keeps per chain (JSON). */
export interface StoredChain {
  readonly ids: DynamoIds;
  readonly kind: ChainKind;
  readonly first: { readonly traceId: string; readonly spanId: string };
  readonly sessionKey?: string | undefined;
  readonly sessionIds: readonly string[];
  readonly persistent?: boolean;
}

export interface ChainStore {
  load(): StoredChain[];
  save(chains: StoredChain[]): void;
}

export interface SessionRef {
  readonly sessionKey?: string | undefined;
  readonly sessionId?: string | undefined;
}

/** Chains held in memory (one per live OpenClaw session; the oldest go first). */
const CHAINS_IN_MEMORY = 10_000;
/** Chains written to the store (the newest; a conversation idle beyond that many starts afresh). */
export const CHAINS_STORED = 1_000;
/** How long changes may wait before the store is written (a run end or shutdown writes at once). */
const PERSIST_DELAY_MS = 1_000;

export class Conversations {
  private readonly byId: BoundedMap<string, Chain>;
  private readonly byKey: BoundedMap<string, Chain>;
  private readonly store: ChainStore | undefined;
  /** Session keys of `mode: "session"` subagents whose first run has not started yet. */
  private readonly persistentKeys = new BoundedMap<string, true>({ capacity: 10_000, ttlMs: TTL_MS });
  private readonly onStoreError: ((error: unknown) => void) | undefined;
  /** Changes not yet written to the store, and the pending write. */
  private dirty = false;
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(options: { store?: ChainStore | undefined; onStoreError?: (error: unknown) => void } = {}) {
    this.store = options.store;
    this.onStoreError = options.onStoreError;
    this.byId = new BoundedMap({ capacity: CHAINS_IN_MEMORY, ttlMs: Number.POSITIVE_INFINITY });
    this.byKey = new BoundedMap({ capacity: CHAINS_IN_MEMORY, ttlMs: Number.POSITIVE_INFINITY });
    for (const stored of this.load()) this.index(toChain(stored));
  }

  /**
   * The chain of the session `ref` names, if one exists. A session id decides: a chain known under
   * the same key but another session id is another conversation (the key's session was reset).
   */
  find(ref: SessionRef): Chain | undefined {
    if (ref.sessionId) {
      const chain = this.byId.get(ref.sessionId);
      if (chain) return chain;
      const byKey = ref.sessionKey ? this.byKey.get(ref.sessionKey) : undefined;
      if (byKey && byKey.sessionIds.length === 0) {
        // Seen before only by key (a hook without the id): now the id is known.
        byKey.sessionIds.push(ref.sessionId);
        this.index(byKey);
        this.persist();
        return byKey;
      }
      return undefined;
    }
    return ref.sessionKey ? this.byKey.get(ref.sessionKey) : undefined;
  }

  /**
   * A new chain from a conversation's first run, recorded for the session `ref` names; a run that
   * names no session gets one for itself alone (kept by nobody).
   */
  create(ref: SessionRef, chain: { ids: DynamoIds; kind: ChainKind; first: Pick<SpanContext, "traceId" | "spanId"> }): Chain {
    if (!ref.sessionId && !ref.sessionKey) return { ...chain, sessionKey: undefined, sessionIds: [] };
    // Own copies: a span id is a slice of the id generator's 8 KiB hex pool (./id-generator.ts), and
    // a chain kept for days would keep its pool alive — 10 000 chains held ~10 MB of pools.
    const { sessionId, trajectoryId, parentTrajectoryId } = chain.ids;
    const created: Chain = {
      ids: { sessionId: own(sessionId), trajectoryId: own(trajectoryId), ...(parentTrajectoryId === undefined ? {} : { parentTrajectoryId: own(parentTrajectoryId) }) },
      kind: chain.kind,
      first: { traceId: own(chain.first.traceId), spanId: own(chain.first.spanId) },
      sessionKey: ref.sessionKey,
      sessionIds: ref.sessionId ? [ref.sessionId] : [],
      ...(ref.sessionKey && this.persistentKeys.has(ref.sessionKey) ? { persistent: true } : {}),
    };
    this.index(created);
    this.persist();
    return created;
  }

  /** `subagent_spawned` with `mode: "session"`: the child's chain ends with its session, not its runs. */
  markPersistent(sessionKey: string): void {
    const chain = this.byKey.get(sessionKey);
    if (chain) {
      chain.persistent = true;
      this.persist();
    } else {
      this.persistentKeys.set(sessionKey, true);
    }
  }

  /**
   * `session_end`: whether the OpenClaw conversation (and so its Dynamo chain) ended. At compaction
   * it goes on, under the next session id when a context engine rotates it; at a Gateway shutdown or
   * restart the chain is kept for the next process; any other end (reset, new, idle, deleted) forgets it.
   */
  sessionEnded(end: { sessionKey?: string | undefined; sessionId?: string | undefined; reason?: string | undefined; nextSessionId?: string | undefined }): boolean {
    if (end.reason === "compaction") {
      this.rotate(end.sessionId, end.nextSessionId, end.sessionKey);
      return false;
    }
    if (end.reason !== "shutdown" && end.reason !== "restart") this.forget(end);
    return true;
  }

  /** The session id rotated (a context engine's compaction): the conversation, and its chain, go on. */
  rotate(previousSessionId: string | undefined, nextSessionId: string | undefined, sessionKey?: string): void {
    if (!nextSessionId) return;
    const chain = (previousSessionId ? this.byId.get(previousSessionId) : undefined) ?? (sessionKey ? this.byKey.get(sessionKey) : undefined);
    if (!chain || chain.sessionIds.includes(nextSessionId)) return;
    chain.sessionIds.push(nextSessionId);
    this.index(chain);
    this.persist();
  }

  /** The OpenClaw session ended for good (reset, deletion, idle expiry): its chain is forgotten. */
  forget(ref: SessionRef): Chain | undefined {
    const chain = this.find({ sessionId: ref.sessionId, sessionKey: ref.sessionId ? undefined : ref.sessionKey }) ??
      (ref.sessionKey ? this.byKey.get(ref.sessionKey) : undefined);
    if (!chain) return undefined;
    for (const id of chain.sessionIds) if (this.byId.get(id) === chain) this.byId.delete(id);
    if (chain.sessionKey && this.byKey.get(chain.sessionKey) === chain) this.byKey.delete(chain.sessionKey);
    this.persist();
    return chain;
  }

  private index(chain: Chain): void {
    for (const id of chain.sessionIds) this.byId.set(id, chain);
    if (chain.sessionKey) this.byKey.set(chain.sessionKey, chain);
  }

  private load(): StoredChain[] {
    if (!this.store) return [];
    try {
      return this.store.load().filter(isStoredChain);
    } catch (error) {
      this.onStoreError?.(error);
      return [];
    }
  }

  /**
   * Notes that the store is behind and writes it soon, once: a Gateway that starts many
   * conversations at once writes the file once per PERSIST_DELAY_MS, never on a hook's path.
   * Run end and shutdown write what is pending at once (`saveNow`): a one-shot CLI exits right after.
   */
  private persist(): void {
    if (!this.store) return;
    this.dirty = true;
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.saveNow(), PERSIST_DELAY_MS);
    this.saveTimer.unref();
  }

  /** Writes the newest CHAINS_STORED chains if anything changed since the last write (a store failure costs continuity, never a run). */
  saveNow(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (!this.store || !this.dirty) return;
    this.dirty = false;
    const newestFirst: Chain[] = [];
    const seen = new Set<Chain>();
    for (const chain of [...this.byKey.values(), ...this.byId.values()].reverse()) {
      if (seen.has(chain)) continue;
      seen.add(chain);
      newestFirst.push(chain);
      if (newestFirst.length >= CHAINS_STORED) break;
    }
    try {
      this.store.save(newestFirst.reverse().map(toStored));
    } catch (error) {
      this.onStoreError?.(error);
    }
  }
}

function own(text: string): string {
  return Buffer.from(text, "latin1").toString("latin1");
}

function toStored(chain: Chain): StoredChain {
  return {
    ids: chain.ids,
    kind: chain.kind,
    first: chain.first,
    ...(chain.sessionKey ? { sessionKey: chain.sessionKey } : {}),
    sessionIds: chain.sessionIds,
    ...(chain.persistent ? { persistent: true } : {}),
  };
}

function toChain(stored: StoredChain): Chain {
  return {
    ids: Object.freeze({ ...stored.ids }),
    kind: stored.kind,
    first: { traceId: stored.first.traceId, spanId: stored.first.spanId },
    sessionKey: stored.sessionKey,
    sessionIds: [...stored.sessionIds],
    ...(stored.persistent === true ? { persistent: true } : {}),
  };
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const isText = (value: unknown): value is string => typeof value === "string" && value.length > 0 && value.length <= 512;

/** A stored entry is outside input (a file anyone may have edited): only well-formed ones are used. */
function isStoredChain(value: unknown): value is StoredChain {
  const v = value as Partial<StoredChain> | null;
  if (!v || typeof v !== "object" || (v.kind !== "lead" && v.kind !== "subagent")) return false;
  const ids = v.ids as Partial<DynamoIds> | undefined;
  if (!ids || !isText(ids.sessionId) || !isText(ids.trajectoryId)) return false;
  if (ids.parentTrajectoryId !== undefined && !isText(ids.parentTrajectoryId)) return false;
  if (!v.first || !HEX32.test(String(v.first.traceId)) || !HEX16.test(String(v.first.spanId))) return false;
  if (v.sessionKey !== undefined && !isText(v.sessionKey)) return false;
  return Array.isArray(v.sessionIds) && v.sessionIds.every(isText) && (v.sessionIds.length > 0 || v.sessionKey !== undefined);
}
