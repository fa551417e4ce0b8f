// %arcuate cells on the installed kernel, executed headless by nbclient: results as HTML tables
// and text, help, plans, notebook variables as parameters, results reachable from TypeScript,
// syntax errors that stop a run with the caret-marked line, and completion and inspection
// answered by the language.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cellErrors,
  cellHtml,
  cellText,
  htmlTableRows,
  installKernel,
  type KernelInstall,
  kernelRequests,
  runCells,
} from "../support/jupyter.js";

let install: KernelInstall;
let folder: string;
let env: Record<string, string>;

beforeAll(async () => {
  install = await installKernel();
  folder = await mkdtemp(join(tmpdir(), "arcuate-magic-"));
  // The language session keeps the provider's catalog here; MLflow is never reached by these cells.
  env = { ARCUATE_WORKDIR: join(folder, "work"), MLFLOW_TRACKING_URI: "http://127.0.0.1:9" };
});

afterAll(async () => {
  await install?.dispose();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("%arcuate cells", () => {
  it("show help, plans and messages, bind notebook variables and leave results to TypeScript", async () => {
    const nb = await runCells(
      install,
      [
        "%arcuate HELP",
        "%arcuate? CREATE SHARE",
        "%%arcuate\n-- nothing runs: EXPLAIN shows the plan\nEXPLAIN CREATE SHARE demo COMMENT 'for the test'",
        "const trackingUri = 'http://127.0.0.1:5999';",
        "%arcuate USE MLFLOW :trackingUri\nconst kinds = arcuate.results.map((r) => r.kind);\n%arcuate USE MLFLOW 'http://127.0.0.1:5998'",
        "kinds.join(',') + ' then ' + arcuate.results.length",
        "arcuate.last",
        "arcuate.display([{ name: 'a<b', size: 1 }, { name: 'c', tags: { team: 'x' } }], 'from TypeScript')",
      ],
      folder,
      { env },
    );
    expect(nb.error).toBeNull();
    const [help, topic, explain, , use, fromTs, last, shown] = nb.cells;
    expect(cellText(help!)).toContain("CREATE SHARE [IF NOT EXISTS]");
    expect(cellText(topic!)).toMatch(/^CREATE SHARE \[IF NOT EXISTS\] share/);
    expect(cellHtml(explain!)[0]).toMatch(/^<pre class="arcuate-plan">plan for: CREATE SHARE demo/);
    expect(cellText(explain!)).toContain("createShare");
    expect(cellText(use!)).toBe(
      "using MLflow at http://127.0.0.1:5999\nusing MLflow at http://127.0.0.1:5998",
    );
    // HELP and EXPLAIN came first; `%arcuate?` shows help without adding a result.
    expect(cellText(fromTs!)).toBe("message,plan,message then 4\n");
    expect(cellText(last!)).toContain("using MLflow at http://127.0.0.1:5998");
    expect(htmlTableRows(cellHtml(shown!)[0] ?? "")).toEqual([
      ["name", "size", "tags"],
      ["a<b", "1", "null"],
      ["c", "null", '{"team":"x"}'],
    ]);
  });

  it("stop a run at a syntax error, with the cell's line and a caret, and go on when errors are allowed", async () => {
    const cells = ["const before = 1;", "%%arcuate\nHELP;\nCREATE SHAR s", "before + 1"];
    const stopped = await runCells(install, cells, folder, { env });
    expect(stopped.error).toMatchObject({ cellIndex: 1, ename: "ParseError" });
    const [error] = cellErrors(stopped.cells[1]!);
    expect(error?.evalue).toMatch(/^syntax error at line 3, column 8: .*found SHAR; did you mean SHARE\?/);
    expect(error?.traceback?.[0]).toMatch(/^ParseError: syntax error at line 3, column 8/);
    expect(error?.traceback?.slice(1)).toEqual(["  3 | CREATE SHAR s", "    |        ^^^^"]);
    // Nothing of the failed cell ran: the statements are all parsed before the first runs.
    expect(stopped.cells[1]?.outputs.filter((o) => o.output_type !== "error")).toEqual([]);
    expect(stopped.cells[2]?.outputs).toEqual([]);

    const allowed = await runCells(install, cells, folder, { env, allowErrors: true });
    expect(cellErrors(allowed.cells[1]!)).toHaveLength(1);
    expect(cellText(allowed.cells[2]!)).toBe("2\n");
  });

  it("complete keywords and inspect statements through the language; TypeScript parts through tslab", async () => {
    const cellMagic = "%%arcuate\nCREATE SH";
    const lineMagic = "%arcuate SHOW ";
    const mixed = "%arcuate HELP\nconst text = 'abc';\ntext.toUpp";
    const variable = "%arcuate USE MLFLOW :track";
    const second = "%%arcuate\nSHOW SHARES;\nPLOT METRIC loss FROM EXPERIMENT 'x'";
    const answers = await kernelRequests<{
      matches?: string[];
      cursor_start?: number;
      found?: boolean;
      data?: Record<string, string>;
    }>(
      install,
      folder,
      ["const trackingUri = 'http://127.0.0.1:5000';"],
      [
        { type: "complete", code: cellMagic, cursor: cellMagic.length },
        { type: "complete", code: lineMagic, cursor: lineMagic.length },
        { type: "complete", code: mixed, cursor: mixed.length },
        { type: "inspect", code: "%%arcuate\nCREATE SHARE s WITH EXPERIMENT 'x'", cursor: 20 },
        { type: "complete", code: variable, cursor: variable.length },
        { type: "inspect", code: second, cursor: second.length - 3 },
      ],
    );
    const [keyword, next, typescript, inspection, variableNames, secondHelp] = answers;
    // `:name` offers the notebook's variables; Shift-Tab helps with the statement under the cursor.
    expect(variableNames).toMatchObject({ matches: [":trackingUri"], cursor_start: variable.length - 6 });
    expect(secondHelp?.data?.["text/plain"]).toMatch(/^PLOT METRIC metric FROM/);
    expect(keyword).toMatchObject({ matches: ["SHARE"], cursor_start: cellMagic.length - 2 });
    expect(next?.matches).toEqual(expect.arrayContaining(["SHARES", "RECIPIENTS", "GRANTS", "TABLES"]));
    expect(typescript?.matches).toContain("toUpperCase");
    expect(typescript?.cursor_start).toBe(mixed.length - "toUpp".length);
    expect(inspection?.found).toBe(true);
    expect(inspection?.data?.["text/plain"]).toMatch(/^CREATE SHARE \[IF NOT EXISTS\]/);
  });
});

describe("%arcuate tables", () => {
  it("show a result table as HTML with a text fallback, and complete known share names", async () => {
    const nb = await runCells(
      install,
      [
        "%%arcuate\nCREATE SHARE churn COMMENT 'churn models';\nCREATE SHARE fraud;\nSHOW SHARES",
        "arcuate.records().map((share) => Object.values(share)[0])",
      ],
      folder,
      { env },
    );
    expect(nb.error).toBeNull();
    const html = cellHtml(nb.cells[0]!).find((h) => h.includes("<table"));
    const rows = htmlTableRows(html ?? "");
    expect(rows.slice(1).map((row) => row[0])).toEqual(["churn", "fraud"]);
    expect(html).toContain("2 rows");
    expect(cellText(nb.cells[0]!)).toContain("(2 rows)");
    expect(cellText(nb.cells[1]!)).toBe("[ 'churn', 'fraud' ]\n");

    const code = "%arcuate SHOW GRANTS ON SHARE ch";
    const [completion] = await kernelRequests<{ matches?: string[] }>(
      install,
      folder,
      [],
      [{ type: "complete", code, cursor: code.length }],
      env,
    );
    expect(completion?.matches).toContain("churn");
  });
});
