/** Parent side of ./receivers.ts: fork it, then talk to it over IPC. */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ReceiverStats } from "./receivers.ts";

export interface Receivers {
  /** zeromq.js PULL. */
  readonly zmqEndpoint: string;
  /** Minimal ZMTP 3.1 PULL on node:net that only counts (see receivers.ts). */
  readonly fastZmqEndpoint: string;
  readonly otlpUrl: string;
  readonly pid: number;
  stats(): Promise<ReceiverStats>;
  reset(): Promise<void>;
  /** Resolves when the PULL has counted `relay` messages since the last reset (or on timeout). */
  waitRelay(relay: number, timeoutMs: number): Promise<{ timedOut: boolean; stats: ReceiverStats }>;
  otlpMode(mode: "ok" | "hang"): Promise<void>;
  close(): Promise<void>;
}

const RECEIVERS = fileURLToPath(new URL("./receivers.ts", import.meta.url));

export async function startReceivers(options: { execArgv?: string[] } = {}): Promise<Receivers> {
  const child: ChildProcess = fork(RECEIVERS, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: options.execArgv ?? [] });
  let nextId = 1;
  const pending = new Map<number, (message: Record<string, unknown>) => void>();
  const ready = new Promise<{ zmqEndpoint: string; fastZmqEndpoint: string; otlpUrl: string }>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`receivers exited early (${code})`)));
    child.on("message", (message: Record<string, unknown>) => {
      if (message.type === "ready") resolve(message as unknown as { zmqEndpoint: string; fastZmqEndpoint: string; otlpUrl: string });
      const id = message.id as number | undefined;
      if (id !== undefined) {
        pending.get(id)?.(message);
        pending.delete(id);
      }
    });
  });
  const { zmqEndpoint, fastZmqEndpoint, otlpUrl } = await ready;
  const call = (request: Record<string, unknown>): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ ...request, id });
    });
  return {
    zmqEndpoint,
    fastZmqEndpoint,
    otlpUrl,
    pid: child.pid ?? -1,
    stats: async () => (await call({ type: "stats" })).stats as ReceiverStats,
    reset: async () => {
      await call({ type: "reset" });
    },
    waitRelay: async (relay, timeoutMs) => {
      const reply = await call({ type: "wait", relay, timeoutMs });
      return { timedOut: reply.timedOut === true, stats: reply.stats as ReceiverStats };
    },
    otlpMode: async (mode) => {
      await call({ type: "otlpMode", mode });
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      await Promise.race([call({ type: "close" }), new Promise((resolve) => setTimeout(resolve, 1000))]);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
