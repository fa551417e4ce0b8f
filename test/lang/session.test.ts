// The session and the executor, on a small in-process fake Runtime that records its calls (a
// unit test of the language; the real runtime is exercised by the integration tests).
import { afterEach, describe, expect, it, vi } from "vitest";
import { ArcuateError, NotFoundError, ParseError } from "../../src/errors.js";
import type { ProgressEvent } from "../../src/lang/executor.js";
import type { Runtime, StepContext } from "../../src/lang/runtime.js";
import { createSession } from "../../src/lang/session.js";

interface Call {
  step: string;
  args: unknown;
}

/** A Runtime that records each call; queries return one row naming the step. */
function recordingRuntime(calls: Call[], overrides: Partial<Runtime> = {}): Runtime {
  return new Proxy(overrides, {
    get(target, property: string) {
      if (property in target) return target[property as keyof Runtime];
      if (property === "then") return undefined;
      return async (args: unknown, context: StepContext) => {
        calls.push({ step: property, args });
        if (property === "listNames") return ["churn_share"];
        context.progress("halfway", 1, 2);
        if (/^(show|describe|select)/.test(property)) return { columns: ["step"], rows: [[property]] };
        return `${property} done`;
      };
    },
  }) as Runtime;
}

const workDir = "/work/arcuate";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("session.execute", () => {
  it("runs every statement in order and returns one result each", async () => {
    const calls: Call[] = [];
    const session = createSession({ workDir, mlflowUri: "http://a:5000", runtime: recordingRuntime(calls) });
    const results = await session.execute("CREATE SHARE s WITH EXPERIMENT 'e'; SHOW SHARES");
    expect(calls.map((call) => call.step)).toEqual(["createShare", "addExperimentToShare", "showShares"]);
    expect(results).toEqual([
      { kind: "message", text: "createShare done\naddExperimentToShare done" },
      { kind: "table", columns: ["step"], rows: [["showShares"]] },
    ]);
  });

  it("USE MLFLOW and USE PROFILE change the statements after them, also in later cells", async () => {
    const calls: Call[] = [];
    const session = createSession({ workDir, mlflowUri: "http://a:5000", runtime: recordingRuntime(calls) });
    const [used] = await session.execute("USE MLFLOW 'http://b:5000'; USE PROFILE 'p.share'");
    expect(used).toEqual({ kind: "message", text: "using MLflow at http://b:5000" });
    await session.execute("CREATE EXPERIMENT 'e' USING SHARE 's.x'");
    expect(calls[0]?.args).toMatchObject({
      mlflowUri: "http://b:5000",
      source: { profile: "p.share", share: "s" },
    });
  });

  it("takes the MLflow server from MLFLOW_TRACKING_URI by default", async () => {
    vi.stubEnv("MLFLOW_TRACKING_URI", "http://from-env:5000");
    const calls: Call[] = [];
    await createSession({ workDir, runtime: recordingRuntime(calls) }).execute("REFRESH SHARE s");
    expect(calls[0]?.args).toMatchObject({ mlflowUri: "http://from-env:5000" });
  });

  it("binds :parameters as values, never as text", async () => {
    const calls: Call[] = [];
    const variables: Record<string, unknown> = { name: "x'; DROP SHARE s; --", n: 3 };
    const session = createSession({
      workDir,
      runtime: recordingRuntime(calls),
      variables: (name) => variables[name],
    });
    await session.execute("CREATE SHARE s COMMENT :name; SELECT * FROM 'p#s.x.t' LIMIT :n");
    expect(calls).toEqual([
      {
        step: "createShare",
        args: { share: "s", comment: "x'; DROP SHARE s; --", ifNotExists: false, workDir },
      },
      {
        step: "selectFromShare",
        args: {
          source: { profile: "p", share: "s", schema: "x", table: "t" },
          columns: null,
          version: null,
          where: null,
          limit: 3,
        },
      },
    ]);
  });

  it("reports an unknown variable by name, before running anything", async () => {
    const calls: Call[] = [];
    const session = createSession({ workDir, runtime: recordingRuntime(calls), variables: () => undefined });
    await expect(session.execute("SHOW SHARES; DROP SHARE :gone")).rejects.toThrow(/unknown variable :gone/);
    expect(calls).toEqual([]);
  });

  it("runs nothing when any statement of the cell has a syntax error", async () => {
    const calls: Call[] = [];
    const session = createSession({ workDir, runtime: recordingRuntime(calls) });
    const failure = session.execute("SHOW SHARES;\nSHOW RECIPIENTS;\nSHOW GRANT ON SHARE s");
    await expect(failure).rejects.toBeInstanceOf(ParseError);
    await expect(failure).rejects.toMatchObject({ line: 3, column: 6 });
    expect(calls).toEqual([]);
  });

  it("emits a progress event as each step starts and as the runtime reports", async () => {
    const events: ProgressEvent[] = [];
    const session = createSession({ workDir, mlflowUri: "http://a:5000", runtime: recordingRuntime([]) });
    await session.execute("CREATE SHARE s WITH MODEL 'm'", { onProgress: (event) => events.push(event) });
    expect(events).toEqual([
      { step: "createShare", message: "create share s" },
      { step: "createShare", message: "halfway", done: 1, total: 2 },
      {
        step: "addModelToShare",
        message: "export registered model 'm' from http://a:5000 into share s as schema m",
      },
      { step: "addModelToShare", message: "halfway", done: 1, total: 2 },
    ]);
  });

  it("hands each result over as its statement finishes", async () => {
    const seen: string[] = [];
    const runtime = recordingRuntime([], {
      showRecipients: async () => {
        throw new NotFoundError("sharing: no catalog in /work/arcuate");
      },
    });
    const session = createSession({ workDir, runtime });
    const failure = session.execute("SHOW SHARES; SHOW RECIPIENTS", {
      onResult: (result) => seen.push(result.kind),
    });
    await expect(failure).rejects.toThrow("SHOW RECIPIENTS: sharing: no catalog in /work/arcuate");
    expect(seen).toEqual(["table"]);
  });

  it("names the statement in a runtime error, keeping its class and code", async () => {
    const runtime = recordingRuntime([], {
      addExperimentToShare: async (args) => {
        throw new NotFoundError(`mlflow: experiment '${args.experiment}' does not exist`);
      },
      createShare: async () => "created",
    });
    const session = createSession({ workDir, mlflowUri: "http://a:5000", runtime });
    const failure = session.execute("CREATE SHARE s WITH EXPERIMENT 'nope'");
    await expect(failure).rejects.toBeInstanceOf(NotFoundError);
    await expect(failure).rejects.toMatchObject({
      code: "RESOURCE_DOES_NOT_EXIST",
      message: "CREATE SHARE s WITH EXPERIMENT 'nope': mlflow: experiment 'nope' does not exist",
    });
  });

  it("wraps an unexpected error as an internal error naming the statement", async () => {
    const runtime = recordingRuntime([], {
      showShares: async () => {
        throw new TypeError("x is not a function");
      },
    });
    const failure = createSession({ workDir, runtime }).execute("SHOW SHARES");
    await expect(failure).rejects.toMatchObject({
      code: "INTERNAL_ERROR",
      message: "SHOW SHARES: x is not a function",
    });
  });
});

describe("statements of the language alone work with the default runtime", () => {
  const session = createSession({ workDir, mlflowUri: "http://a:5000" });

  it("EXPLAIN shows the plan and runs nothing", async () => {
    const [result] = await session.execute("EXPLAIN CREATE SHARE s WITH EXPERIMENT '/Users/me/churn'");
    expect(result).toEqual({
      kind: "plan",
      text: [
        "plan for: CREATE SHARE s WITH EXPERIMENT '/Users/me/churn'",
        "  1. createShare: create share s",
        '     share="s" comment=null ifNotExists=false workDir="/work/arcuate"',
        "  2. addExperimentToShare: export experiment '/Users/me/churn' from http://a:5000 into share s as schema churn",
        '     share="s" experiment="/Users/me/churn" schema="churn" mlflowUri="http://a:5000" traces=true workDir="/work/arcuate"',
      ].join("\n"),
    });
    expect(session.explain("SHOW SHARES")).toBe(
      'plan for: SHOW SHARES\n  1. showShares: list the shares\n     workDir="/work/arcuate"',
    );
  });

  it("HELP and HELP <statement>", async () => {
    const [all, one] = await session.execute("HELP; HELP grant");
    expect(all).toMatchObject({
      kind: "message",
      text: expect.stringContaining("CREATE SHARE [IF NOT EXISTS]"),
    });
    expect(one).toMatchObject({
      kind: "message",
      text: expect.stringContaining("GRANT SELECT ON SHARE churn_share TO RECIPIENT acme"),
    });
    expect(session.help("shwo")).toMatch(/^no help on SHWO; did you mean SHOW\?/);
  });

  it("runs provider statements on the default runtime, over the working folder's catalog", async () => {
    const [shares] = await session.execute("SHOW SHARES");
    expect(shares).toMatchObject({ kind: "table", rows: [] });
    const failure = session.execute("DROP SHARE nowhere");
    await expect(failure).rejects.toBeInstanceOf(ArcuateError);
    await expect(failure).rejects.toThrow("DROP SHARE nowhere: catalog: share 'nowhere' does not exist");
  });

  it("completion takes names from the runtime", async () => {
    const named = createSession({ workDir, runtime: recordingRuntime([]) });
    expect(await named.complete("DROP SHARE c", 12)).toEqual({
      matches: ["churn_share"],
      cursorStart: 11,
      cursorEnd: 12,
    });
  });
});
