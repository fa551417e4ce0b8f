// `arcuate delta cat|history`, run as a user runs them: `npx tsx src/cli.ts delta …`.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { ALL_TYPES_SCHEMA, allTypesBatch } from "./support/data.js";

const run = promisify(execFile);

async function arcuate(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run("npx", ["tsx", "src/cli.ts", ...args], { cwd: PROJECT_ROOT });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

const lines = (text: string) =>
  text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("arcuate delta", () => {
  it("cat prints rows as JSON Lines at a version, a timestamp, with a limit; history prints commits", {
    timeout: 120_000,
  }, async () => {
    const path = join(mkdtempSync(join(tmpdir(), "arcuate-delta-cli-")), "t");
    const table = await DeltaTable.create(path, { schema: ALL_TYPES_SCHEMA });
    await table.write(allTypesBatch(0, 10), { mode: "append" });
    await new Promise((r) => setTimeout(r, 50));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 50));
    await table.write(allTypesBatch(10, 5), { mode: "append" });

    const [latest, v1, atTime, limited, history, missing] = await Promise.all([
      arcuate("delta", "cat", path),
      arcuate("delta", "cat", path, "--version", "1"),
      arcuate("delta", "cat", path, "--timestamp", between),
      arcuate("delta", "cat", path, "--limit", "3"),
      arcuate("delta", "history", path),
      arcuate("delta", "cat", join(path, "nope")),
    ]);
    expect(lines(latest.stdout)).toHaveLength(15);
    expect(lines(v1.stdout)).toHaveLength(10);
    expect(lines(atTime.stdout)).toHaveLength(10);
    expect(lines(limited.stdout)).toHaveLength(3);

    const row = lines(latest.stdout).find((r) => r.id === 1)!;
    expect(row).toMatchObject({
      id: 1,
      score: "Infinity", // NaN and infinities as strings
      price: "12345.1789", // decimals as strings
      blob: Buffer.from([1, 0, 255, 7]).toString("base64"), // binary as base64
      day: "1901-02-02",
      info: { a: null, b: "b1", c: { d: 0.25 } },
      tags: { k: "v1", n: null },
    });
    expect(row.local).toBe("1970-01-01T01:00:00.000001");
    expect(lines(latest.stdout).find((r) => r.id === 2)!.at).toBe("1969-12-22T10:13:20.246914Z"); // ISO 8601 UTC
    expect(lines(latest.stdout).find((r) => r.id === 0)!.score).toBe("NaN");
    expect(lines(latest.stdout).find((r) => r.id === 2)!.score).toBe("-Infinity");

    expect(lines(history.stdout).map((h) => [h.version, h.operation])).toEqual([
      [2, "WRITE"],
      [1, "WRITE"],
      [0, "CREATE TABLE"],
    ]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("arcuate: delta: not a Delta table");
  });
});
