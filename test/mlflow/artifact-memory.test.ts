// A 200 MB artifact goes up to MLflow and back down through arcuate's client with flat memory:
// measured in a separate process (bench/mlflow-artifact-memory.ts) so the test runner's own
// memory does not blur the number.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { mlflowServers } from "../support/mlflow.js";
import { PROJECT_ROOT } from "../support/paths.js";

const run = promisify(execFile);

describe("artifact streaming", () => {
  it("uploads and downloads a 200 MB artifact intact while peak RSS grows by less than 64 MB", async () => {
    const { stdout } = await run(
      join(PROJECT_ROOT, "node_modules", ".bin", "tsx"),
      [join(PROJECT_ROOT, "bench", "mlflow-artifact-memory.ts"), mlflowServers().provider, "200"],
      { cwd: PROJECT_ROOT, timeout: 300_000 },
    );
    const result = JSON.parse(stdout.trim()) as {
      bytes: number;
      sha256Equal: boolean;
      peakRssGrowthMb: number;
    };
    expect(result.bytes).toBe(200 * 1024 * 1024);
    expect(result.sha256Equal).toBe(true);
    expect(result.peakRssGrowthMb).toBeLessThan(64);
  });
});
