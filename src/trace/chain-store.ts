/**
 * Where Dynamo chains outlive the process (docs/identity.md, "Across processes"): one small JSON
 * file in the plugin's own directory under OpenClaw's state dir, `<state>/plugins/dynamo/chains.json`.
 *
 * Synchronous on purpose: a run's ids are needed synchronously at its first hook, and a chain is
 * written only when one is created, renamed or forgotten (once per conversation, not per request).
 * OpenClaw's keyed plugin-state store is asynchronous (its synchronous variant is deprecated), and an
 * `agent --local` run holds the state dir's lock, so one process writes the file at a time.
 * The write is atomic (temporary file, then rename): a crash leaves the old file or the new one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { ChainStore, StoredChain } from "./conversations.ts";

const FILE_VERSION = 1;
/** A larger file is not ours to read (the store holds at most CHAINS_STORED small entries). */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Without a host runtime (tests, the bench): `OPENCLAW_STATE_DIR`, else `~/.openclaw`. Under OpenClaw the plugin asks OpenClaw (`api.runtime.state.resolveStateDir`, which also knows profiles and `OPENCLAW_HOME`). */
export function openclawStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.OPENCLAW_STATE_DIR?.trim();
  return configured ? configured : join(homedir(), ".openclaw");
}

export function chainStorePath(stateDir: string): string {
  return join(stateDir, "plugins", "dynamo", "chains.json");
}

export class FileChainStore implements ChainStore {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  load(): StoredChain[] {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    if (text.length > MAX_FILE_BYTES) throw new Error(`${this.path} is larger than ${MAX_FILE_BYTES} bytes`);
    const parsed = JSON.parse(text) as { version?: unknown; chains?: unknown };
    if (parsed?.version !== FILE_VERSION || !Array.isArray(parsed.chains)) return [];
    return parsed.chains as StoredChain[];
  }

  save(chains: StoredChain[]): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify({ version: FILE_VERSION, chains }), { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}
