// Standalone launcher:
//   node test/sim/cli.ts [--generation nvext|headers] [--model id]... [--topic t] [--verbose] [--requests-log file]
// Prints one JSON line {baseUrl, otlpUrl, zmqEndpoint, generation} and runs until SIGINT/SIGTERM.
import { appendFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startSimulator } from "./simulator.ts";
import type { DynamoGeneration, RecordedRequest } from "./types.ts";

const { values } = parseArgs({
  options: {
    generation: { type: "string", default: "headers" },
    model: { type: "string", multiple: true },
    topic: { type: "string" },
    verbose: { type: "boolean", default: false },
    "requests-log": { type: "string" },
  },
});

if (values.generation !== "nvext" && values.generation !== "headers") {
  process.stderr.write(`--generation must be nvext or headers (got ${values.generation})\n`);
  process.exit(2);
}

const requestsLog = values["requests-log"];
const sim = await startSimulator({
  generation: values.generation as DynamoGeneration,
  ...(values.model ? { models: values.model } : {}),
  ...(values.topic !== undefined ? { topic: values.topic } : {}),
  // Logs go to stderr so stdout carries only the JSON line.
  ...(values.verbose ? { log: (line: string) => process.stderr.write(`${line}\n`) } : {}),
  // One JSON line per answered request (method, path, headers, body, status, tool calls, …).
  ...(requestsLog !== undefined ? { onRequest: (r: RecordedRequest) => appendFileSync(requestsLog, `${JSON.stringify(r)}\n`) } : {}),
});
process.stdout.write(`${JSON.stringify({ baseUrl: sim.baseUrl, otlpUrl: sim.otlpUrl, zmqEndpoint: sim.zmqEndpoint, generation: sim.generation })}\n`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`[sim] ${signal}: ${sim.summary()}\n`);
  sim.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`[sim] close failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
