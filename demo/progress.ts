/**
 * Progress on stderr while OpenClaw runs (stdout stays clean for the waterfall). On a terminal one
 * line is redrawn in place with a spinner and live counters; otherwise each step is printed once and
 * a heartbeat line every 15 s shows the counters.
 */
import { createStyle } from "./waterfall.ts";

export interface Progress {
  /** Start a step; the previous one is marked done with its duration. */
  step(text: string): void;
  /** Counters shown next to the current step (called on every redraw). */
  setCounters(counters: () => string): void;
  /** Mark the current step done (or failed) and stop redrawing. */
  done(failed?: boolean): void;
  /** A line of its own, above the progress line. */
  note(text: string): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export function createProgress(stream: NodeJS.WriteStream = process.stderr, color = false): Progress {
  const tty = stream.isTTY === true;
  const { dim, green, red } = createStyle(color);
  let current: { text: string; startedAt: number } | undefined;
  let counters: () => string = () => "";
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  let lastHeartbeat = 0;

  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const clearLine = () => {
    if (tty) stream.write("\r\u001b[2K");
  };
  const render = () => {
    if (!current) return;
    const elapsed = Date.now() - current.startedAt;
    const extra = counters();
    if (tty) {
      const line = `${FRAMES[frame++ % FRAMES.length]} ${current.text} ${dim(`${seconds(elapsed)}${extra ? ` · ${extra}` : ""}`)}`;
      const width = stream.columns ?? 120;
      clearLine();
      // Keep it on one line, or the next redraw leaves debris behind.
      stream.write(line.length > width + 20 ? `${line.slice(0, width + 19)}…` : line);
    } else if (Date.now() - lastHeartbeat >= 15_000) {
      lastHeartbeat = Date.now();
      if (elapsed > 1_000) stream.write(`  … ${current.text} ${seconds(elapsed)}${extra ? ` · ${extra}` : ""}\n`);
    }
  };
  const finish = (failed: boolean) => {
    if (!current) return;
    const elapsed = seconds(Date.now() - current.startedAt);
    clearLine();
    stream.write(`${failed ? red("✗") : green("✓")} ${current.text} ${dim(elapsed)}\n`);
    current = undefined;
  };

  return {
    step(text) {
      finish(false);
      current = { text, startedAt: Date.now() };
      lastHeartbeat = Date.now();
      if (!tty) stream.write(`• ${text}\n`);
      timer ??= setInterval(render, tty ? 100 : 1_000);
      timer.unref();
      render();
    },
    setCounters(fn) {
      counters = fn;
    },
    done(failed = false) {
      finish(failed);
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    note(text) {
      clearLine();
      stream.write(`${text}\n`);
      render();
    },
  };
}
