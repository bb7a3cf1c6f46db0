/** A span tree whose spans end up in memory, for unit tests of the trace layer. */
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { ReservableIdGenerator } from "../../src/trace/id-generator.ts";
import { SpanTree } from "../../src/trace/span-tree.ts";
import type { SpanTreeOptions } from "../../src/trace/tree-types.ts";
import type { DynamoPluginConfig } from "../../src/types.ts";

/** The caller shuts `provider` down after the test. */
export function memoryTree(
  config: DynamoPluginConfig,
  options: Partial<SpanTreeOptions> = {},
): { tree: SpanTree; provider: TracerProvider; spans: () => ReadableSpan[] } {
  const idGenerator = new ReservableIdGenerator();
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ idGenerator, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tree = new SpanTree({ tracer: provider.getTracer("test"), idGenerator, config, ...options });
  return { tree, provider, spans: () => exporter.getFinishedSpans() };
}
