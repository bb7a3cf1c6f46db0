import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// The plugin keeps Dynamo chain ids under OpenClaw's state dir (docs/identity.md); unit tests that
// build the plugin's services must never write the developer's ~/.openclaw.
const UNIT_STATE_DIR = join(tmpdir(), `openclaw-dynamo-unit-${process.pid}`);

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/e2e/**"],
          testTimeout: 20_000,
          env: { OPENCLAW_STATE_DIR: UNIT_STATE_DIR },
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // Real OpenClaw turns cost 15-30 s each on a 2-core machine; run e2e files one at a time.
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
