/** Small statistics helpers: every figure is reported as a median over repeats with its min–max. */
import { performance } from "node:perf_hooks";

/** Wall clock in ms with sub-ms precision, comparable across the benchmark's processes. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/**
 * `rounds` rounds of the baseline and the plugin side by side. The side that goes first swaps every
 * round, so drift in machine load hits both alike.
 */
export async function alternating<T>(rounds: number, baseline: () => Promise<T>, plugin: () => Promise<T>): Promise<{ baseline: T[]; plugin: T[] }> {
  const out = { baseline: [] as T[], plugin: [] as T[] };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      out.baseline.push(await baseline());
      out.plugin.push(await plugin());
    } else {
      out.plugin.push(await plugin());
      out.baseline.push(await baseline());
    }
  }
  return out;
}

export function mean(values: ArrayLike<number>, count = values.length): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += values[i] as number;
  return count === 0 ? NaN : sum / count;
}

/** Nearest-rank percentile (p in 0..100) of the first `count` values. */
export function percentile(values: ArrayLike<number>, p: number, count = values.length): number {
  if (count === 0) return NaN;
  const sorted = Float64Array.from({ length: count }, (_, i) => values[i] as number).sort();
  const rank = Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1));
  return sorted[rank] as number;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, n: sorted.length };
}

/** `median (min–max)` with `digits` decimals. */
export function fmt(s: Spread, digits = 2, unit = ""): string {
  if (s.n === 0) return "n/a";
  const f = (v: number) => v.toFixed(digits);
  return s.n === 1 ? `${f(s.median)}${unit}` : `${f(s.median)}${unit} (${f(s.min)}–${f(s.max)})`;
}

/** Marker line a benchmark child prints with its JSON result (the runner parses it). */
export const RESULT_MARKER = "BENCH_RESULT ";

export function emitResult(result: unknown): void {
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
