/**
 * Tool calls counted by tool, status and error type for the `dynamo.client.tool.calls` metric
 * (docs/serving-metrics.md). Counted in a plain map on the span-end path and reported through an
 * observable counter when the metrics are collected: a synchronous OTel counter hashes its
 * attribute set on every `add`, which cost ~1.5 µs per tool call — a third of a tool event's budget.
 */
import type { Attributes, ObservableResult } from "@opentelemetry/api";

/** Distinct (tool, status, error type) series kept; beyond it, calls count under tool name `_OTHER`. */
const MAX_SERIES = 1_000;
const OTHER_TOOL = "_OTHER";

interface Series {
  readonly attributes: Attributes;
  count: number;
}

export class ToolCallCounts {
  private readonly series = new Map<string, Series>();
  private readonly keys: { tool: string; status: string; errorType: string };

  constructor(keys: { tool: string; status: string; errorType: string }) {
    this.keys = keys;
  }

  /** One ended tool call, from its span's attributes. */
  add(attributes: Attributes): void {
    let tool = attributes[this.keys.tool];
    const status = attributes[this.keys.status];
    const errorType = attributes[this.keys.errorType];
    let key = `${String(tool)}\u0000${String(status)}\u0000${String(errorType)}`;
    let series = this.series.get(key);
    if (!series) {
      if (this.series.size >= MAX_SERIES) {
        tool = OTHER_TOOL;
        key = `${tool}\u0000${String(status)}\u0000${String(errorType)}`;
        series = this.series.get(key);
      }
      if (!series) {
        const seriesAttributes: Attributes = {};
        if (tool !== undefined) seriesAttributes[this.keys.tool] = tool;
        if (status !== undefined) seriesAttributes[this.keys.status] = status;
        if (errorType !== undefined) seriesAttributes[this.keys.errorType] = errorType;
        series = { attributes: seriesAttributes, count: 0 };
        this.series.set(key, series);
      }
    }
    series.count++;
  }

  /** Reports the cumulative count of every series (an observable counter's callback). */
  observe(result: ObservableResult): void {
    for (const series of this.series.values()) result.observe(series.count, series.attributes);
  }
}
