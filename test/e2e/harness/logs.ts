/** Reading OpenClaw output and log files. */
import { existsSync, readFileSync } from "node:fs";

// CSI sequences (colours, cursor moves) and OSC sequences (hyperlinks) as emitted by OpenClaw's TTY-less output.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** Lines of `text` (ANSI stripped), without empty ones. */
export function lines(text: string): string[] {
  return stripAnsi(text)
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "");
}

/** The whole file, or "" when it does not exist (yet). */
export function readTextFile(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

/** Plugin log lines: lines mentioning the plugin's tag (default `[dynamo]`), ANSI stripped. */
export function pluginLines(text: string, tag = "[dynamo]"): string[] {
  return lines(text).filter((line) => line.includes(tag));
}

/** The last `n` lines of `text`, for failure messages. */
export function tail(text: string, n = 40): string {
  return lines(text).slice(-n).join("\n");
}

/** One line of OpenClaw's JSON-lines log file (tslog format). */
export interface LogEntry {
  time?: string;
  level?: string;
  /** e.g. "gateway", "plugins", "config" (from the logger name `{"subsystem": …}`). */
  subsystem?: string;
  /** Human text: `message` when present, else the positional string arguments joined. */
  text: string;
  raw: Record<string, unknown>;
}

function subsystemOf(name: unknown): string | undefined {
  if (typeof name !== "string") return undefined;
  try {
    const parsed = JSON.parse(name) as { subsystem?: unknown };
    return typeof parsed.subsystem === "string" ? parsed.subsystem : name;
  } catch {
    return name;
  }
}

/** Parse OpenClaw's `logging.file` (JSON lines); unparsable lines become `{text: line}`. */
export function parseLogFile(text: string): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(line) as Record<string, unknown>;
    } catch {
      entries.push({ text: stripAnsi(line), raw: {} });
      continue;
    }
    const meta = (raw._meta ?? {}) as { logLevelName?: unknown; name?: unknown };
    const positional = Object.keys(raw)
      .filter((k) => /^\d+$/.test(k))
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => raw[k]);
    // Positional arg 0 is the logger's bindings when a subsystem logger is used; skip it.
    const args = positional.length > 1 && subsystemOf(positional[0]) !== undefined && String(positional[0]).startsWith("{")
      ? positional.slice(1)
      : positional;
    const text =
      typeof raw.message === "string"
        ? raw.message
        : args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ");
    entries.push({
      time: typeof raw.time === "string" ? raw.time : undefined,
      level: typeof meta.logLevelName === "string" ? meta.logLevelName : undefined,
      subsystem: subsystemOf(meta.name),
      text: stripAnsi(text),
      raw,
    });
  }
  return entries;
}

/**
 * Log-file entries that mention `needle` in their text or subsystem. The plugin tags its own lines
 * `[dynamo] …` (src/runtime.ts); pass "dynamo" to also get OpenClaw's lines about the plugin.
 */
export function pluginLogEntries(logFileText: string, needle = "[dynamo]"): LogEntry[] {
  return parseLogFile(logFileText).filter((e) => e.text.includes(needle) || (e.subsystem ?? "").includes(needle));
}
