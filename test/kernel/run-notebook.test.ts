// `arcuate kernel run`: a notebook executed headless by Jupyter's nbconvert on this checkout's
// kernel, the executed copy and its HTML written to the output folder; a failing cell fails the
// command with that cell's error.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildPackage, htmlTableRows } from "../support/jupyter.js";
import { PROJECT_ROOT } from "../support/paths.js";

const execFileAsync = promisify(execFile);
const CLI = join(PROJECT_ROOT, "dist", "src", "cli.js");

let folder: string;

beforeAll(async () => {
  await buildPackage();
  folder = await mkdtemp(join(tmpdir(), "arcuate-kernel-run-"));
});

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

function notebook(cells: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "arcuate", display_name: "arcuate (TypeScript)", language: "typescript" },
    },
    cells: cells.map((source, i) => ({
      cell_type: "code",
      id: `c${i}`,
      metadata: {},
      source,
      outputs: [],
      execution_count: null,
    })),
  });
}

it("executes a notebook and renders it to HTML, leaving the original untouched", async () => {
  const source = join(folder, "tables.ipynb");
  await writeFile(
    source,
    notebook(["%arcuate HELP SELECT", "arcuate.display([{ share: 'churn', tables: 4 }], 'shares')"]),
  );
  const { stdout } = await execFileAsync(process.execPath, [
    CLI,
    "kernel",
    "run",
    source,
    "-o",
    join(folder, "out"),
    "--html",
  ]);
  expect(stdout.trim().split("\n")).toEqual([
    join(folder, "out", "tables.ipynb"),
    join(folder, "out", "tables.html"),
  ]);

  const executed = JSON.parse(await readFile(join(folder, "out", "tables.ipynb"), "utf8")) as {
    cells: { outputs: { data?: Record<string, string | string[]> }[] }[];
  };
  // On disk, nbformat keeps multi-line text as a list of lines.
  expect([executed.cells[0]?.outputs[0]?.data?.["text/plain"] ?? []].flat().join("")).toMatch(/^SELECT/);
  const html = await readFile(join(folder, "out", "tables.html"), "utf8");
  expect(htmlTableRows(html.slice(html.indexOf('<table class="dataframe arcuate-table">')))).toContainEqual([
    "churn",
    "4",
  ]);
  expect(JSON.parse(await readFile(source, "utf8")).cells[0].outputs).toEqual([]);
});

it("fails with the failing cell's error", async () => {
  const source = join(folder, "broken.ipynb");
  await writeFile(source, notebook(["%%arcuate\nSHOW SHARS", "1 + 1"]));
  const failed = await execFileAsync(process.execPath, [
    CLI,
    "kernel",
    "run",
    source,
    "-o",
    join(folder, "out"),
  ]).then(
    () => undefined,
    (error: { code?: number; stderr?: string }) => error,
  );
  expect(failed?.code).toBe(1);
  expect(failed?.stderr).toContain("arcuate: kernel: running");
  expect(failed?.stderr).toMatch(/ParseError: syntax error at line 2, column 6/);
});
