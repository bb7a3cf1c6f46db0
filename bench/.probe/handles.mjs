import { appendFileSync } from "node:fs";
const file = process.env.HANDLES_LOG;
if (file) {
  const t0 = Date.now();
  const log = (m) => appendFileSync(file, `${Date.now()} pid=${process.pid} ${m}\n`);
  log(`start argv=${process.argv.slice(1, 4).join(" ")}`);
  const iv = setInterval(() => log(`active ${JSON.stringify(process.getActiveResourcesInfo())}`), 250);
  iv.unref();
  process.on("beforeExit", () => log("beforeExit"));
  process.on("exit", (c) => log(`exit ${c}`));
  const origExit = process.exit.bind(process);
  process.exit = (c) => { log(`process.exit(${c}) called\n${new Error().stack.split("\n").slice(1, 6).join("\n")}`); return origExit(c); };
}
