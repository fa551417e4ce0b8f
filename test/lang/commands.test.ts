// `arcuate run`: statements from the argument or a file, results as aligned text.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseVariables, runCommand } from "../../src/lang/commands.js";
import { formatTable } from "../../src/lang/format.js";
import type { Runtime } from "../../src/lang/runtime.js";

async function run(args: string[], runtime?: Runtime): Promise<string> {
  let out = "";
  const command = runCommand({ write: (text) => (out += text), ...(runtime ? { runtime } : {}) });
  await command.parseAsync(["node", "run", ...args]);
  return out;
}

const sharesRuntime = {
  showShares: async () => ({
    columns: ["name", "comment"],
    rows: [
      ["churn_share", "churn models"],
      ["s", null],
    ],
  }),
} as unknown as Runtime;

describe("arcuate run", () => {
  it("prints tables aligned and messages as they are", async () => {
    const out = await run(["--mlflow", "http://a:5000", "USE PROFILE 'p.share'; SHOW SHARES"], sharesRuntime);
    expect(out).toBe(
      [
        "using profile p.share",
        "",
        "name        | comment",
        "------------+-------------",
        "churn_share | churn models",
        "s           |",
        "(2 rows)",
        "",
      ].join("\n"),
    );
  });

  it("reads statements from a file, with --var for parameters", async () => {
    const dir = mkdtempSync(join(tmpdir(), "arcuate-run-"));
    const file = join(dir, "plan.sql");
    writeFileSync(file, "-- preview\nEXPLAIN SELECT * FROM :table LIMIT :n;\n");
    const out = await run(["-f", file, "--workdir", dir, "--var", "table=p#s.x.t", "--var", "n=7"]);
    expect(out).toContain("at most 7 rows");
    expect(out).toContain('source={"profile":"p","share":"s","schema":"x","table":"t"}');
  });

  it("refuses no statements, and both statements and a file", async () => {
    await expect(run([])).rejects.toThrow("run: no statements");
    await expect(run(["SHOW SHARES", "-f", "x.sql"])).rejects.toThrow("not both");
  });

  it("reads --var values as numbers, booleans or strings", () => {
    expect(parseVariables(["n=5", "ok=true", "name=a=b", "x=1.5e3"])).toEqual(
      new Map<string, unknown>([
        ["n", 5],
        ["ok", true],
        ["name", "a=b"],
        ["x", "1.5e3"],
      ]),
    );
    expect(() => parseVariables(["=5"])).toThrow("--var wants name=value");
  });

  it("formatTable says when rows are a cut of more", () => {
    expect(formatTable(["a"], [[1], [2]], 10)).toBe("a\n-\n1\n2\n(showing 2 rows of 10)");
  });
});
