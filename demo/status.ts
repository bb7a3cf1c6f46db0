/** The plugin's `dynamo.status` answer (src/services.ts `PluginStatus`), printed for humans. */
import type { Style } from "./waterfall.ts";

export interface StatusPayload {
  agentTrace?: boolean;
  protocol?: { setting: string; inUse: string; fallbacks: number };
  openSessions?: Array<{ trajectoryId: string; protocol: string; runKind: string }>;
  sessionRequests?: { opened: number; closed: number; finals: number; failed: number };
  relay?: { endpoint: string; topic: string; connected: boolean; sent: number; dropped: number; errors: number; pending: number; skipped: number; lastError?: string };
  exporter?: { enabled?: boolean; endpoint?: string; protocol?: string; exported?: number; failed?: number; ended?: number; lastError?: string };
  spanTree?: Record<string, number>;
  lastError?: string;
}

export function formatStatus(status: StatusPayload, style: Style): string {
  const row = (label: string, value: string) => `  ${style.dim(label.padEnd(11))} ${value}`;
  const lines = [style.bold("Plugin status") + style.dim("  (openclaw gateway call dynamo.status, taken before the Gateway stopped)")];
  const p = status.protocol;
  lines.push(
    row("protocol", p ? `${p.inUse} in use (setting ${p.setting}${p.fallbacks ? `, ${p.fallbacks} fallback from nvext` : ""})` : "agent trace off"),
  );
  const open = status.openSessions ?? [];
  const requests = status.sessionRequests;
  lines.push(
    row(
      "sessions",
      `${open.length} open Dynamo session${open.length === 1 ? "" : "s"}${open.length ? ` (${open.map((s) => `${s.runKind} ${s.trajectoryId}`).join(", ")})` : ""}` +
        (requests ? style.dim(`; ${requests.opened} opened, ${requests.closed} closed, ${requests.finals} session-final, ${requests.failed} failed`) : ""),
    ),
  );
  const r = status.relay;
  lines.push(
    row(
      "relay",
      r
        ? `${r.sent} sent, ${r.dropped} dropped, ${r.errors} errors, ${r.pending} pending → ${r.endpoint} (${r.connected ? "connected" : "not connected"})`
        : "off",
    ),
  );
  const e = status.exporter;
  lines.push(
    row(
      "exporter",
      e?.enabled ? `${e.protocol ?? "OTLP"} → ${e.endpoint ?? "?"}: ${e.exported ?? 0} exported, ${e.failed ?? 0} failed, ${e.ended ?? 0} ended` : "off",
    ),
  );
  lines.push(row("last error", status.lastError ? style.red(status.lastError) : "none"));
  return lines.join("\n");
}
