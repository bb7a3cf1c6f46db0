/** What to do with the output: the files, and copy-paste commands for Jaeger, Phoenix and the user's own OpenClaw. */
import { readFileSync } from "node:fs";
import type { DemoOptions } from "./args.ts";
import type { Collector } from "./collector.ts";
import type { TraceModel } from "./trace-model.ts";
import type { Style } from "./waterfall.ts";

export const JAEGER_IMAGE = "cr.jaegertracing.io/jaegertracing/jaeger:2.15.0";
export const PHOENIX_IMAGE = "arizephoenix/phoenix:latest";

const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

export interface NextStepsInput {
  style: Style;
  otlpFile: string;
  perfettoFile: string;
  model: TraceModel;
  collector: Collector;
  options: DemoOptions;
  write?: (text: string) => void;
}

export function printNextSteps(input: NextStepsInput): void {
  const { style, model, collector, options } = input;
  const write = input.write ?? ((text: string) => process.stdout.write(text));
  const traceId = model.traces[0]?.traceId ?? "<trace id>";
  const cmd = (s: string) => `  ${style.cyan(s)}`;
  const lines: string[] = ["", style.bold("Files")];
  lines.push(`  ${input.otlpFile.padEnd(34)} OTLP/JSON, ${model.spans.length} spans: POST it to any OTLP/HTTP collector that takes JSON`);
  lines.push(`  ${input.perfettoFile.padEnd(34)} Chrome trace events: open https://ui.perfetto.dev and drop the file in`);

  if (options.otlpEndpoint) {
    const failed = collector.forwarded.filter((f) => f.status < 200 || f.status >= 300);
    const sent = `${collector.forwarded.length} OTLP export${collector.forwarded.length === 1 ? "" : "s"} forwarded to ${options.otlpEndpoint}`;
    lines.push("", failed.length === 0 ? `${style.green("✓")} ${sent}, all accepted.` : `${style.red("✗")} ${sent}; ${failed.length} failed (${failed[0]?.error ?? failed[0]?.status}).`);
    lines.push(`  trace id ${traceId}`);
  }

  lines.push("", style.bold("View it in Jaeger") + style.dim("  (OTLP/HTTP on :4318, UI on :16686)"));
  lines.push(cmd(`docker run --rm -d --name jaeger -p 16686:16686 -p 4318:4318 ${JAEGER_IMAGE}`));
  lines.push(cmd(`curl -sS http://localhost:4318/v1/traces -H 'Content-Type: application/json' --data-binary @${input.otlpFile}`));
  lines.push(cmd(`open http://localhost:16686/trace/${traceId}`) + style.dim("     # or: npm run demo -- --otlp-endpoint http://localhost:4318"));

  lines.push("", style.bold("View it in Phoenix") + style.dim("  (OTLP/HTTP protobuf only, UI on :6006; the demo forwards the plugin's protobuf)"));
  lines.push(cmd(`docker run --rm -d --name phoenix -p 6006:6006 ${PHOENIX_IMAGE}`));
  lines.push(cmd("npm run demo -- --otlp-endpoint http://localhost:6006 --otlp-header x-project-name=openclaw-demo"));
  lines.push(cmd("open http://localhost:6006") + style.dim("     # project openclaw-demo → Traces / Sessions"));

  lines.push("", style.bold("Your own OpenClaw") + style.dim("  (README.md: Install, Configuration)"));
  lines.push(cmd(`npm pack && openclaw plugins install npm-pack:./openclaw-dynamo-${VERSION}.tgz --force --accept-capabilities`));
  lines.push(cmd("openclaw config set plugins.entries.dynamo.hooks.allowConversationAccess true"));
  lines.push(
    cmd(
      "DYNAMO_BASE_URL=http://127.0.0.1:8000 DYN_AGENT_TRACE=1 DYN_AGENT_TOOL_EVENTS_ZMQ_ENDPOINT=tcp://127.0.0.1:20390 \\\n" +
        "    OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 openclaw gateway run",
    ),
  );
  write(`${lines.join("\n")}\n`);
}
