// Every %arcuate statement in the demo notebooks is valid arcuate: it parses and compiles to a
// plan (EXPLAIN, nothing runs), so the notebooks cannot drift from the language even before the
// parts they need can run.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classifyCell } from "../../src/kernel/magic.js";
import { createSession } from "../../src/lang/index.js";
import { PROJECT_ROOT } from "../support/paths.js";

interface NotebookJson {
  cells: { cell_type: string; source: string | string[] }[];
}

async function statements(name: string): Promise<string[]> {
  const notebook = JSON.parse(await readFile(join(PROJECT_ROOT, "notebooks", name), "utf8")) as NotebookJson;
  return notebook.cells
    .filter((cell) => cell.cell_type === "code")
    .map((cell) => [cell.source].flat().join(""))
    .flatMap((code) => {
      const cell = classifyCell(code);
      return cell.kind === "magic"
        ? cell.parts.flatMap((part) => (part.kind === "arcuate" ? [part.text] : []))
        : [];
    });
}

describe.each(["provider.ipynb", "recipient.ipynb"])("%s", (name) => {
  it("has only statements that parse and compile", async () => {
    const variables: Record<string, string> = {
      trackingUri: "http://127.0.0.1:5000",
      profile: "/tmp/partner_lab.share",
      experimentName: "churn-prediction",
    };
    // EXPLAIN runs nothing, USE included: the session starts where the notebook's USE cells lead.
    const session = createSession({
      workDir: "/tmp/arcuate-unused",
      mlflowUri: variables["trackingUri"],
      profile: variables["profile"],
      variables: (key) => variables[key],
    });
    const texts = await statements(name);
    expect(texts.length).toBeGreaterThan(3);
    for (const text of texts) {
      expect(() => session.explain(text), text.trim()).not.toThrow();
    }
  });
});
