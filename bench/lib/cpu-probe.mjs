// Preloaded into every Node process of a benchmarked OpenClaw run (`NODE_OPTIONS=--import <this>`):
// at exit, writes the process's own CPU time (user + system, all threads) to
// `$BENCH_CPU_DIR/<pid>.json`, so the bench can add up the CPU of the whole process tree the same
// way for every arm (no plugin, plugin off, plugin on). Plain JS: it runs before any loader.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.BENCH_CPU_DIR;
if (dir) {
  process.once("exit", () => {
    const { user, system } = process.cpuUsage();
    try {
      writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ pid: process.pid, ppid: process.ppid, argv: process.argv.slice(1, 3), cpuUs: user + system }));
    } catch {
      // the bench reports a missing record as a process it could not measure
    }
  });
}
