// Completion: keywords that may come next (from the grammar) and names that exist (from a
// NameSource), replacing the word under the cursor.
import { describe, expect, it } from "vitest";
import { complete, type NameSource } from "../../src/lang/complete.js";

const names: NameSource = {
  async names(role) {
    const known: Record<string, string[]> = {
      share: ["churn_share", "retention", "model"],
      recipient: ["acme", "globex"],
      experiment: ["/Users/me/churn", "/Users/me/retention"],
      model: ["churn-classifier"],
    };
    return known[role] ?? [];
  },
};

const at = (text: string) => complete(text, text.length, names);

describe("completion", () => {
  it("offers every statement at the start", async () => {
    const { matches } = await at("");
    expect(matches).toEqual(expect.arrayContaining(["CREATE", "SHOW", "SELECT", "GRANT", "HELP", "USE"]));
  });

  it("completes a keyword being typed, in the case typed", async () => {
    expect(await at("CREATE SH")).toEqual({ matches: ["SHARE"], cursorStart: 7, cursorEnd: 9 });
    expect((await at("create sh")).matches).toEqual(["share"]);
    expect((await at("SHOW ")).matches).toEqual(["SHARES", "RECIPIENTS", "GRANTS", "TABLES"]);
  });

  it("offers what may follow WITH", async () => {
    expect((await at("CREATE SHARE s WITH ")).matches).toEqual(["EXPERIMENT", "MODEL", "TABLE"]);
  });

  it("offers share names after SHARE, back-quoting a keyword", async () => {
    expect((await at("GRANT SELECT ON SHARE ")).matches).toEqual(["churn_share", "`model`", "retention"]);
    expect(await at("DROP SHARE IF EXISTS ch")).toEqual({
      matches: ["churn_share"],
      cursorStart: 21,
      cursorEnd: 23,
    });
  });

  it("offers recipients after RECIPIENT", async () => {
    expect((await at("GRANT SELECT ON SHARE s TO RECIPIENT ")).matches).toEqual(["acme", "globex"]);
  });

  it("offers experiments as quoted strings, also inside an opened quote", async () => {
    expect((await at("CREATE SHARE s WITH EXPERIMENT ")).matches).toEqual([
      "'/Users/me/churn'",
      "'/Users/me/retention'",
    ]);
    expect(await at("CREATE SHARE s WITH EXPERIMENT '/Users/me/r")).toEqual({
      matches: ["'/Users/me/retention'"],
      cursorStart: 31,
      cursorEnd: 43,
    });
  });

  it("offers IF NOT EXISTS and names together after CREATE SHARE", async () => {
    expect((await at("CREATE SHARE ")).matches).toEqual(["IF", "churn_share", "`model`", "retention"]);
  });

  it("works in the statement under the cursor, not the whole cell", async () => {
    const text = "SHOW SHARES;\nDROP RECIPIENT ";
    expect((await complete(text, text.length, names)).matches).toEqual(["IF", "acme", "globex"]);
    expect((await complete(text, 7, names)).matches).toEqual(["SHARES"]);
  });

  it("offers nothing after a statement that cannot be right", async () => {
    expect((await at("SHOW nonsense ")).matches).toEqual([]);
  });

  it("still offers keywords when names are slow or failing", async () => {
    const failing: NameSource = { names: () => Promise.reject(new Error("server down")) };
    expect((await complete("CREATE SHARE ", 13, failing)).matches).toEqual(["IF"]);
  });
});
