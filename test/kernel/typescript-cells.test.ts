// Plain TypeScript cells on the arcuate kernel behave as on stock tslab, executed headless by
// Jupyter's nbclient; a failing cell gives a readable Jupyter error (which stock tslab does not)
// and, with allow_errors, the cells after it still run (which stock tslab's did not). That a
// headless run stops at a failing cell is tested with a %arcuate cell in magic-cells.test.ts.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cellErrors,
  cellHtml,
  cellText,
  installKernel,
  type KernelInstall,
  kernelRequests,
  runCells,
} from "../support/jupyter.js";
import { runPythonJson } from "../support/python.js";

let install: KernelInstall;
let folder: string;

beforeAll(async () => {
  install = await installKernel();
  // A folder with no node_modules: `import … from "arcuate"` must still work there.
  folder = await mkdtemp(join(tmpdir(), "arcuate-notebook-"));
});

afterAll(async () => {
  await install?.dispose();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("TypeScript cells", () => {
  it("keep declarations across cells, await at top level, show the last expression and tslab.display", async () => {
    const nb = await runCells(
      install,
      [
        "const greeting: string = 'hello';\nfunction twice(n: number): number { return 2 * n; }",
        "let total = twice(21);\ngreeting + ' ' + total",
        "const later = await new Promise<number>((resolve) => setTimeout(() => resolve(total + 1), 20));\nlater",
        'import * as tslab from "tslab";\ntslab.display.html("<b>bold</b>");\ntslab.display.text("plain");',
        "console.log('to stdout'); console.error('to stderr');",
        'import { NotFoundError, ArcuateError } from "arcuate";\nconst e = new NotFoundError("no such share");\n[e instanceof ArcuateError, e.status]',
        // Stock tslab fails here ("greeting is not defined"): an earlier cell's name in a shorthand property.
        "const pair = { greeting, total };\npair",
      ],
      folder,
    );
    expect(nb.error).toBeNull();
    const [decl, expr, awaited, display, streams, library, shorthand] = nb.cells;
    expect(decl?.outputs).toEqual([]);
    expect(cellText(expr!)).toBe("hello 42\n");
    expect(cellText(awaited!)).toBe("43\n");
    expect(cellHtml(display!)).toEqual(["<b>bold</b>"]);
    expect(display!.outputs.map((o) => o.data?.["text/plain"])).toContain("plain");
    expect(streams!.outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "to stdout\n" },
      { output_type: "stream", name: "stderr", text: "to stderr\n" },
    ]);
    expect(cellText(library!)).toBe("[ true, 404 ]\n");
    expect(cellText(shorthand!)).toBe("{ greeting: 'hello', total: 42 }\n");
    expect(nb.cells.map((c) => c.execution_count)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("keep executing the cells after a failure when errors are allowed", async () => {
    const nb = await runCells(
      install,
      [
        "let count = 1;",
        'throw new RangeError("out of range: 7");',
        "count += 1;\ncount",
        "const label: string = count;",
        "count * 10",
      ],
      folder,
      { allowErrors: true },
    );
    expect(nb.error).toBeNull();
    const [thrown] = cellErrors(nb.cells[1]!);
    expect(thrown).toMatchObject({ ename: "RangeError", evalue: "out of range: 7" });
    expect(thrown?.traceback?.join("\n")).toContain("RangeError: out of range: 7");
    expect(cellText(nb.cells[2]!)).toBe("2\n");
    expect(cellErrors(nb.cells[3]!)).toEqual([
      {
        output_type: "error",
        ename: "CompileError",
        evalue: "1:7 - Type 'number' is not assignable to type 'string'.",
        traceback: [
          "CompileError: 1:7 - Type 'number' is not assignable to type 'string'.",
          "  const label: string = count;",
          "        ^",
        ],
      },
    ]);
    expect(cellText(nb.cells[4]!)).toBe("20\n");
  });

  it("complete and inspect with tslab's own answers", async () => {
    const code = "const values = [1, 2, 3];\nvalues.fil";
    const [completion, inspection] = await kernelRequests<{
      matches?: string[];
      cursor_start?: number;
      cursor_end?: number;
      found?: boolean;
      data?: Record<string, string>;
    }>(
      install,
      folder,
      ["const base = 10;"],
      [
        { type: "complete", code, cursor: code.length },
        { type: "inspect", code: "base", cursor: 2 },
      ],
    );
    expect(completion?.matches).toContain("filter");
    expect(completion?.matches).not.toContain("SELECT");
    expect([completion?.cursor_start, completion?.cursor_end]).toEqual([code.length - 3, code.length]);
    expect(inspection?.found).toBe(true);
    expect(inspection?.data?.["text/plain"]).toContain("const base: 10");
  });
});

describe("the execute queue", () => {
  it("aborts only the requests queued behind a failure, as ipykernel does, and obeys interrupts", async () => {
    const replies = await runPythonJson<Record<string, unknown>[]>(
      `import json, time
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="arcuate", startup_timeout=60)
try:
    # Sent together: the second and third wait in the queue while the first fails.
    ids = [kc.execute("await new Promise((r) => setTimeout(r, 300)); throw new Error('first fails')"),
           kc.execute("const queued = 1;"),
           kc.execute("queued")]
    replies = {}
    while len(replies) < len(ids):
        msg = kc.get_shell_msg(timeout=60)
        if msg["parent_header"].get("msg_id") in ids:
            replies[msg["parent_header"]["msg_id"]] = msg["content"]
    # Sent after the failure was reported: runs normally.
    later = kc.execute("1 + 1", reply=True, timeout=60)["content"]
    # Jupyter's interrupt (SIGINT) stops a cell that waits, and the kernel goes on.
    waiting = kc.execute("await new Promise((r) => setTimeout(r, 30_000));")
    time.sleep(1.5)
    km.interrupt_kernel()
    interrupted = kc.get_shell_msg(timeout=20)["content"]
    after = kc.execute("2 + 2", reply=True, timeout=60)["content"]
    info = kc.kernel_info(reply=True, timeout=30)["content"]
    print(json.dumps([replies[i] for i in ids] + [later, interrupted, after, info]))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)`,
      { env: install.env, timeoutMs: 120_000 },
    );
    expect(replies.map((r) => r.status)).toEqual(["error", "aborted", "aborted", "ok", "error", "ok", "ok"]);
    expect(replies[0]?.ename).toBe("Error");
    expect(replies[4]?.evalue).toBe("Interrupted asynchronously");
    expect(replies[6]).toMatchObject({
      implementation: "arcuate",
      language_info: { name: "typescript", version: "5.0.4", file_extension: ".ts" },
    });
  });
});
