// Cell routing and rendering, without Jupyter: which cells are %arcuate, what text the language
// receives (positions kept), and how tables, messages and errors look.
import { describe, expect, it } from "vitest";
import { ArcuateError, ParseError } from "../../src/errors.js";
import {
  errorContent,
  formatValue,
  resultBundle,
  rowsCaption,
  tableBundle,
} from "../../src/kernel/display.js";
import { classifyCell, partAt } from "../../src/kernel/magic.js";
import { Results } from "../../src/kernel/notebook-global.js";
import { htmlTableRows } from "../support/jupyter.js";

describe("classifyCell", () => {
  it.each([
    ["const a = 1;", "typescript"],
    ["", "typescript"],
    ["// %arcuate SHOW SHARES", "typescript"],
    ["%arcuatefoo", "typescript"],
    ["x\n%arcuate SHOW SHARES", "typescript"],
    ["%arcuate SHOW SHARES", "magic"],
    ["\n  %%arcuate\nSHOW SHARES", "magic"],
    ["%arcuate?", "help"],
    ["%%arcuate? CREATE SHARE", "help"],
  ])("%j is %s", (code, kind) => {
    expect(classifyCell(code).kind).toBe(kind);
  });

  it("hands a cell magic's text over with the cell's own offsets", () => {
    const code = "%%arcuate\nSHOW SHARES;\nSHOW RECIPIENTS";
    const cell = classifyCell(code);
    expect(cell).toEqual({
      kind: "magic",
      parts: [
        { kind: "arcuate", text: "         \nSHOW SHARES;\nSHOW RECIPIENTS", start: 9, end: code.length },
      ],
    });
    const text = cell.kind === "magic" ? (cell.parts[0] as { text: string }).text : "";
    expect(text.length).toBe(code.length);
    expect(text.indexOf("RECIPIENTS")).toBe(code.indexOf("RECIPIENTS"));
  });

  it("runs the lines of a line-magic cell in order, TypeScript between statements", () => {
    const code = "%arcuate SHOW SHARES\nconst n = arcuate.results.length;\n%arcuate HELP";
    const cell = classifyCell(code);
    if (cell.kind !== "magic") throw new Error("not a magic cell");
    expect(cell.parts.map((p) => [p.kind, p.kind === "arcuate" ? p.text.trim() : p.code.trim()])).toEqual([
      ["arcuate", "SHOW SHARES"],
      ["typescript", "const n = arcuate.results.length;"],
      ["arcuate", "HELP"],
    ]);
    // TypeScript keeps its line: tslab's line numbers are the cell's.
    const ts = cell.parts[1];
    expect(ts?.kind === "typescript" && ts.code.split("\n")[1]).toBe("const n = arcuate.results.length;");
    expect(partAt(cell, code.length)?.kind).toBe("arcuate");
    expect(partAt(cell, code.indexOf("const") + 2)?.kind).toBe("typescript");
  });

  it("reads the help topic", () => {
    expect(classifyCell("%arcuate? CREATE SHARE")).toEqual({ kind: "help", topic: "CREATE SHARE" });
    expect(classifyCell("%arcuate?")).toEqual({ kind: "help", topic: undefined });
  });
});

describe("tables", () => {
  const rows = Array.from({ length: 120 }, (_, i) => [i, `name <${i}>`, i % 2 === 0 ? null : { a: i }]);

  it("cap the rows shown and say so, in HTML and text alike", () => {
    const bundle = tableBundle({ kind: "table", title: "Runs", columns: ["n", "name", "tags"], rows }, 50);
    const html = bundle.data["text/html"] ?? "";
    const parsed = htmlTableRows(html);
    expect(parsed[0]).toEqual(["n", "name", "tags"]);
    expect(parsed.length).toBe(51);
    expect(parsed[2]).toEqual(["1", "name <1>", '{"a":1}']);
    expect(html).toContain("showing 50 of 120 rows");
    expect(html).toContain("<caption>Runs</caption>");
    expect(html).not.toContain("<1>");
    const text = bundle.data["text/plain"] ?? "";
    expect(text.split("\n").slice(0, 4)).toEqual([
      "Runs",
      "n  | name      | tags",
      "---+-----------+---------",
      "0  | name <0>  | null",
    ]);
    expect(text.endsWith("(showing 50 of 120 rows)")).toBe(true);
  });

  it("count rows the language left out (totalRows)", () => {
    const html = tableBundle({ kind: "table", columns: ["x"], rows: [[1], [2]], totalRows: 1000 }).data[
      "text/html"
    ];
    expect(html).toContain("showing 2 of 1,000 rows");
    expect(rowsCaption(1, 1)).toBe("1 row");
  });

  it("show messages and plans as preformatted text", () => {
    expect(resultBundle({ kind: "plan", text: "1. read experiment\n2. write <table>" }).data).toEqual({
      "text/html": '<pre class="arcuate-plan">1. read experiment\n2. write &#60;table&#62;</pre>',
      "text/plain": "1. read experiment\n2. write <table>",
    });
  });

  it.each([
    [null, "null"],
    [new Date("2024-01-02T03:04:05Z"), "2024-01-02T03:04:05.000Z"],
    [12n, "12"],
    [new Map([["k", 1]]), '{"k":1}'],
    [new Uint8Array(3), "<3 bytes>"],
    [["a", 1], '["a",1]'],
  ])("format %o as %s", (value, text) => {
    expect(formatValue(value)).toBe(text);
  });
});

describe("errors", () => {
  it("show arcuate's own message, caret line included, without a stack", () => {
    const error = new ParseError(
      "syntax error at line 2, column 8: expected SHARE\n  CREATE SHAR s\n         ^",
      {
        line: 2,
        column: 8,
      },
    );
    expect(errorContent(error)).toEqual({
      ename: "ParseError",
      evalue: error.message,
      traceback: [
        "ParseError: syntax error at line 2, column 8: expected SHARE",
        "  CREATE SHAR s",
        "         ^",
      ],
    });
    expect(
      errorContent(new ArcuateError("CONNECTION_FAILED", "mlflow: cannot reach http://x")).traceback,
    ).toEqual(["ArcuateError: mlflow: cannot reach http://x"]);
  });
});

describe("the arcuate object of the notebook", () => {
  it("keeps every result and gives table rows as records", () => {
    const results = new Results();
    expect(results.last).toBeUndefined();
    results.add({ kind: "table", columns: ["share", "tables"], rows: [["s", 3]] });
    results.add({ kind: "message", text: "ok" });
    expect(results.last).toEqual({ kind: "message", text: "ok" });
    expect(results.records(results.results[0])).toEqual([{ share: "s", tables: 3 }]);
    expect(() => results.records()).toThrow("arcuate: the result is a message, not a table");
  });
});

describe("error contents", () => {
  it("replace a lone surrogate, which Jupyter could not save, and keep whole pairs", async () => {
    const { errorContent } = await import("../../src/kernel/display.js");
    const content = errorContent(
      new SyntaxError(`Unexpected token '\ud83c', "\ud83c\udfc3 View" is not valid JSON`),
    );
    expect(content.evalue).toBe(`Unexpected token '\ufffd', "\ud83c\udfc3 View" is not valid JSON`);
    expect(content.traceback.join("\n")).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});
