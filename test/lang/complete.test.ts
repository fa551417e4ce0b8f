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
    expect((await at("SHOW ")).matches).toEqual([
      "SHARES",
      "RECIPIENTS",
      "GRANTS",
      "TABLES",
      "TRACE",
      "MODELS",
    ]);
  });

  it("offers what may follow WITH", async () => {
    expect((await at("CREATE SHARE s WITH ")).matches).toEqual(["EXPERIMENT", "MODEL", "PROMPT", "TABLE"]);
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

describe("completion that knows the data", () => {
  const data: NameSource = {
    ...names,
    async columns(coordinate) {
      return coordinate === "churn_share.churn.metrics"
        ? ["run_id", "key", "value", "timestamp", "step"]
        : [];
    },
    async coordinates(depth) {
      return [
        "churn_share",
        "churn_share.churn",
        "churn_share.churn.metrics",
        "churn_share.churn.runs",
      ].filter((c) => c.split(".").length === depth);
    },
    variables: () => ["trackingUri", "profile", "table_name"],
  };
  const here = (text: string, cursor = text.length) => complete(text, cursor, data);

  it("offers the columns of the table a SELECT names, after SELECT and in WHERE", async () => {
    const select = "SELECT  FROM 'churn_share.churn.metrics'";
    expect((await here(select, 7)).matches).toEqual(
      expect.arrayContaining(["run_id", "key", "value", "timestamp", "step"]),
    );
    const where = "SELECT run_id FROM 'churn_share.churn.metrics' WHERE ru";
    expect(await here(where)).toEqual({
      matches: ["run_id"],
      cursorStart: where.length - 2,
      cursorEnd: where.length,
    });
    expect(
      (await here("SELECT * FROM 'churn_share.churn.metrics' WHERE key = 'loss' AND s")).matches,
    ).toEqual(["step"]);
  });

  it("offers no columns when the statement names no table yet", async () => {
    expect((await here("SELECT ru")).matches).toEqual([]);
  });

  it("offers :variables of the notebook where a value may stand", async () => {
    expect(await here("USE MLFLOW :tr")).toEqual({
      matches: [":trackingUri"],
      cursorStart: 11,
      cursorEnd: 14,
    });
    expect((await here("USE PROFILE :")).matches).toEqual([":profile", ":table_name", ":trackingUri"]);
    expect((await here("SELECT * FROM :")).matches).toEqual([":profile", ":table_name", ":trackingUri"]);
  });

  it("offers the shares, schemas and tables of the profile in use, as quoted coordinates", async () => {
    expect((await here("SELECT * FROM ")).matches).toEqual([
      "'churn_share.churn.metrics'",
      "'churn_share.churn.runs'",
    ]);
    expect(await here("SELECT * FROM 'churn_share.churn.r")).toEqual({
      matches: ["'churn_share.churn.runs'"],
      cursorStart: 14,
      cursorEnd: 34,
    });
    expect((await here("CREATE EXPERIMENT 'x' USING SHARE ")).matches).toEqual(["'churn_share.churn'"]);
    expect((await here("PLOT METRIC loss FROM ")).matches).toEqual(
      expect.arrayContaining(["EXPERIMENT", "'churn_share.churn'"]),
    );
    expect((await here("SHOW TABLES IN ")).matches).toEqual(["SHARE", "'churn_share'"]);
    expect((await here("SHOW TRACE 'tr-1' FROM ")).matches).toEqual(
      expect.arrayContaining(["EXPERIMENT", "'churn_share.churn'"]),
    );
  });

  it("keeps a profile typed in the coordinate", async () => {
    const profiles: string[] = [];
    const source: NameSource = {
      ...data,
      async coordinates(depth, profile) {
        profiles.push(String(profile));
        return data.coordinates!(depth, profile);
      },
    };
    expect((await complete("SELECT * FROM 'acme.share#churn_share.churn.m", 45, source)).matches).toEqual([
      "'acme.share#churn_share.churn.metrics'",
    ]);
    expect(profiles).toEqual(["acme.share"]);
  });

  it("offers step and time after PLOT … BY", async () => {
    expect((await here("PLOT METRIC loss FROM EXPERIMENT 'x' BY ")).matches).toEqual(["step", "time"]);
    expect((await here("PLOT METRIC loss FROM EXPERIMENT 'x' BY t")).matches).toEqual(["time"]);
  });
});
