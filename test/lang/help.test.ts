// The reference cannot drift from the grammar: every example in HELP parses and compiles, and
// docs/language.md carries every statement's syntax and examples.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "../../grammar/parse.js";
import { compileScript } from "../../src/lang/compile.js";
import { HELP_ENTRIES, help } from "../../src/lang/help.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { CONTEXT, VARIABLES } from "./fixtures.js";

const examples = HELP_ENTRIES.flatMap((entry) =>
  entry.examples.map((example) => [entry.topic, example] as const),
);
const docs = readFileSync(join(PROJECT_ROOT, "docs", "language.md"), "utf8");

describe("the HELP reference", () => {
  it.each(examples)("%s example parses and compiles: %s", (_topic, example) => {
    const variables: Record<string, unknown> = { ...VARIABLES, table: "acme.share#s.x.t" };
    expect(() =>
      compileScript(parse(example), { ...CONTEXT, variables: (name) => variables[name] }),
    ).not.toThrow();
  });

  it.each(examples)("docs/language.md shows the %s example %s", (_topic, example) => {
    expect(docs).toContain(example);
  });

  it("HELP lists every statement; HELP <words> shows the entries starting with them", () => {
    for (const entry of HELP_ENTRIES) expect(help()).toContain(entry.syntax[0]);
    const creates = help("create");
    expect(creates).toContain("CREATE SHARE [IF NOT EXISTS]");
    expect(creates).toContain("CREATE RECIPIENT");
    expect(creates).toContain("CREATE [OR REPLACE] MODEL");
    expect(creates).not.toContain("GRANT SELECT");
    expect(help("show shares")).toContain("SHOW SHARES IN 'profile'");
  });
});
