// Completion through a session: the names come from the runtime, and what a share holds (a
// table's columns, a profile's tables) is fetched once per session and reused.
import { describe, expect, it } from "vitest";
import { createSession, type Runtime } from "../../src/lang/index.js";
import type { TableCoordinate } from "../../src/lang/plan.js";

function countingRuntime() {
  const calls = { listColumns: [] as TableCoordinate[], listSharedTables: [] as string[], failNext: false };
  const runtime = new Proxy({} as Runtime, {
    get(_target, property: string) {
      if (property === "then") return undefined;
      if (property === "listColumns")
        return async (table: TableCoordinate) => {
          calls.listColumns.push(table);
          if (calls.failNext) {
            calls.failNext = false;
            throw new Error("sharing server down");
          }
          return ["run_id", "key", "value", "timestamp", "step"];
        };
      if (property === "listSharedTables")
        return async (profile: string) => {
          calls.listSharedTables.push(profile);
          return [
            { share: "churn_share", schema: "churn", name: "runs" },
            { share: "churn_share", schema: "churn", name: "metrics" },
          ];
        };
      if (property === "listNames") return async () => [];
      throw new Error(`unexpected runtime call ${property}`);
    },
  });
  return { runtime, calls };
}

describe("a session's completion", () => {
  it("fetches a table's columns once and reuses them", async () => {
    const { runtime, calls } = countingRuntime();
    const session = createSession({ workDir: "/tmp/w", profile: "/p/acme.share", runtime });
    const text = "SELECT k FROM 'churn_share.churn.metrics' WHERE s";
    expect((await session.complete(text, 8)).matches).toEqual(["key"]);
    expect((await session.complete(text, text.length)).matches).toEqual(["step"]);
    expect(
      (await session.complete("SELECT  FROM 'acme.share#churn_share.churn.metrics'", 7)).matches,
    ).toEqual(["run_id", "key", "value", "timestamp", "step"]);
    expect(calls.listColumns).toEqual([
      { profile: "/p/acme.share", share: "churn_share", schema: "churn", table: "metrics" },
      { profile: "acme.share", share: "churn_share", schema: "churn", table: "metrics" },
    ]);
  });

  it("tries again after a failed fetch instead of keeping the failure", async () => {
    const { runtime, calls } = countingRuntime();
    calls.failNext = true;
    const session = createSession({ workDir: "/tmp/w", profile: "/p/acme.share", runtime });
    const text = "SELECT v FROM 'churn_share.churn.metrics'";
    expect((await session.complete(text, 8)).matches).toEqual([]);
    expect((await session.complete(text, 8)).matches).toEqual(["value"]);
    expect((await session.complete(text, 8)).matches).toEqual(["value"]);
    expect(calls.listColumns).toHaveLength(2);
  });

  it("lists the profile's tables once for coordinates of every depth", async () => {
    const { runtime, calls } = countingRuntime();
    const session = createSession({ workDir: "/tmp/w", profile: "/p/acme.share", runtime });
    expect((await session.complete("SELECT * FROM '", 15)).matches).toEqual([
      "'churn_share.churn.metrics'",
      "'churn_share.churn.runs'",
    ]);
    expect((await session.complete("CREATE MODEL 'm' USING SHARE ", 29)).matches).toEqual([
      "'churn_share.churn'",
    ]);
    expect(calls.listSharedTables).toEqual(["/p/acme.share"]);
  });

  it("offers the notebook's variables after ':'", async () => {
    const { runtime } = countingRuntime();
    const session = createSession({
      workDir: "/tmp/w",
      runtime,
      variableNames: () => ["trackingUri", "profile"],
    });
    expect((await session.complete("USE MLFLOW :", 12)).matches).toEqual([":profile", ":trackingUri"]);
  });
});
