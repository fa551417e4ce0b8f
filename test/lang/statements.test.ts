// Every statement form end to end, through the default runtime, against the real peers: MLflow
// tracking servers and arcuate's Delta Sharing server serving the session's working folder.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { createSession, type Session, type StatementResult } from "../../src/lang/index.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { seedExperiment } from "../../src/peers/seed.js";
import { mlflowServers } from "../support/mlflow.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";

const id = randomUUID().slice(0, 8);
const names = {
  experiment: `lang-churn-${id}`,
  model: `lang-churn-model-${id}`,
  share: `lang_share_${id}`,
  recipient: `lang_recipient_${id}`,
};

let workDir: string;
let provider: Session;
let sharing: TestSharingServer | undefined;
let seeded: Promise<unknown> | undefined;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), "arcuate-lang-"));
  provider = createSession({ workDir, mlflowUri: mlflowServers().provider });
});

afterAll(async () => {
  await sharing?.close();
  rmSync(workDir, { recursive: true, force: true });
});

/** Runs statements on the default runtime (the first argument is the test's context, unused). */
async function run(_context: TestContext, session: Session, text: string): Promise<StatementResult[]> {
  return session.execute(text);
}

/** Seeds the provider's experiment and model once, only when a test gets that far. */
function seed(): Promise<unknown> {
  seeded ??= seedExperiment(new MlflowClient({ trackingUri: mlflowServers().provider }), {
    experimentName: names.experiment,
    runs: 2,
    stepsPerMetric: 5,
    modelName: names.model,
    modelVersions: 2,
  });
  return seeded;
}

/** Every cell of a table result as text, to look for names without assuming column layouts. */
function cells(result: StatementResult | undefined): string[] {
  if (result?.kind !== "table") throw new Error(`expected a table, got ${JSON.stringify(result)}`);
  return result.rows.flat().map((cell) => (typeof cell === "string" ? cell : JSON.stringify(cell)));
}

describe("provider statements", () => {
  it("CREATE SHARE, SHOW SHARES, DESCRIBE SHARE, DROP SHARE", async (context) => {
    const share = `${names.share}_plain`;
    await run(context, provider, `CREATE SHARE ${share} COMMENT 'plain'`);
    await run(context, provider, `CREATE SHARE IF NOT EXISTS ${share}`);
    expect(cells((await run(context, provider, "SHOW SHARES"))[0])).toContain(share);
    expect((await run(context, provider, `DESCRIBE SHARE ${share}`))[0]?.kind).toBe("table");
    await run(context, provider, `DROP SHARE ${share}; DROP SHARE IF EXISTS ${share}`);
    expect(cells((await run(context, provider, "SHOW SHARES"))[0])).not.toContain(share);
  });

  it("CREATE SHARE WITH EXPERIMENT and MODEL, ALTER, REFRESH, SHOW TABLES, DESCRIBE HISTORY", async (context) => {
    await run(context, provider, `CREATE SHARE ${names.share}`);
    await seed();
    await run(context, provider, `ALTER SHARE ${names.share} ADD EXPERIMENT '${names.experiment}' AS churn`);
    await run(context, provider, `ALTER SHARE ${names.share} ADD MODEL '${names.model}' AS classifier`);
    const tables = cells((await run(context, provider, `SHOW TABLES IN SHARE ${names.share}`))[0]).join(" ");
    for (const table of ["runs", "metrics", "artifacts", "versions"]) expect(tables).toContain(table);
    await run(context, provider, `REFRESH SHARE ${names.share}; REFRESH SHARE ${names.share} churn`);
    const history = await run(context, provider, `DESCRIBE HISTORY ${names.share}.churn.runs`);
    expect(history[0]?.kind === "table" && history[0].rows.length).toBeGreaterThan(0);
    await run(context, provider, `ALTER SHARE ${names.share} REMOVE classifier`);
    expect(
      cells((await run(context, provider, `SHOW TABLES IN SHARE ${names.share}`))[0]).join(" "),
    ).not.toContain("classifier");
    const legacy = `${names.share}_legacy`;
    await run(context, provider, `CREATE SHARE ${legacy} WITH TABLE t FROM EXPERIMENT '${names.experiment}'`);
    expect(cells((await run(context, provider, `SHOW TABLES IN SHARE ${legacy}`))[0]).join(" ")).toContain(
      "runs",
    );
  });

  it("an unknown experiment fails naming the statement and the experiment", async (context) => {
    const share = `${names.share}_missing`;
    await run(context, provider, `CREATE SHARE ${share}`);
    const failure = run(context, provider, `ALTER SHARE ${share} ADD EXPERIMENT 'no-such-${id}'`);
    // The statement leads the message (long ones shortened), then the object and the server.
    await expect(failure).rejects.toThrow(`ALTER SHARE ${share} ADD`);
    await expect(failure).rejects.toThrow(
      `: exchange: experiment 'no-such-${id}' does not exist on ${mlflowServers().provider}`,
    );
  });

  it("CREATE RECIPIENT, GRANT, SHOW GRANTS, REVOKE, DESCRIBE RECIPIENT, DROP RECIPIENT", async (context) => {
    const share = `${names.share}_grants`;
    const recipient = `${names.recipient}_grants`;
    await run(context, provider, `CREATE SHARE ${share}`);
    const [created] = await run(context, provider, `CREATE RECIPIENT ${recipient} COMMENT 'lab'`);
    expect(created?.kind === "message" && created.text).toContain("bearerToken");
    expect(cells((await run(context, provider, "SHOW RECIPIENTS"))[0])).toContain(recipient);
    expect((await run(context, provider, `DESCRIBE RECIPIENT ${recipient}`))[0]?.kind).toBe("table");
    await run(context, provider, `GRANT SELECT ON SHARE ${share} TO RECIPIENT ${recipient}`);
    expect(cells((await run(context, provider, `SHOW GRANTS ON SHARE ${share}`))[0])).toContain(recipient);
    expect(cells((await run(context, provider, `SHOW GRANTS TO RECIPIENT ${recipient}`))[0])).toContain(
      share,
    );
    await run(context, provider, `REVOKE SELECT ON SHARE ${share} FROM RECIPIENT ${recipient}`);
    expect(cells((await run(context, provider, `SHOW GRANTS ON SHARE ${share}`))[0])).not.toContain(
      recipient,
    );
    await run(context, provider, `DROP RECIPIENT ${recipient}; DROP RECIPIENT IF EXISTS ${recipient}`);
    expect(cells((await run(context, provider, "SHOW RECIPIENTS"))[0])).not.toContain(recipient);
  });
});

describe("recipient statements", () => {
  it("SHOW SHARES IN, SHOW TABLES IN, SELECT, CREATE EXPERIMENT and MODEL USING SHARE", async (context) => {
    // The provider exports through the language; the recipient's credentials come from the
    // catalog the test server serves, so no message format is assumed. This takes the runtime to
    // keep its catalog where Catalog.open(workDir) finds it.
    const share = `${names.share}_remote`;
    await run(context, provider, `CREATE SHARE ${share}`);
    await seed();
    await run(
      context,
      provider,
      `ALTER SHARE ${share} ADD EXPERIMENT '${names.experiment}' AS churn, ADD MODEL '${names.model}' AS classifier`,
    );
    sharing ??= await startTestSharingServer({ dir: workDir });
    const credentials = await sharing.catalog.createRecipient(`${names.recipient}_remote`);
    await sharing.catalog.grant(share, credentials.recipient.name);
    const { recipient: recipientUri } = mlflowServers();
    const recipient = createSession({
      workDir: mkdtempSync(join(tmpdir(), "arcuate-lang-recipient-")),
      mlflowUri: recipientUri,
    });

    expect(
      cells((await run(context, recipient, `SHOW SHARES IN '${credentials.profilePath}'`))[0]),
    ).toContain(share);
    // A relative profile path is read from the current folder.
    const relativeProfile = relative(process.cwd(), credentials.profilePath);
    expect(cells((await run(context, recipient, `SHOW SHARES IN '${relativeProfile}'`))[0])).toContain(share);
    await run(context, recipient, `USE PROFILE '${credentials.profilePath}'`);
    expect(cells((await run(context, recipient, `SHOW TABLES IN '${share}'`))[0]).join(" ")).toContain(
      "runs",
    );
    const [runs] = await run(context, recipient, `SELECT * FROM '${share}.churn.runs' LIMIT 2`);
    expect(runs?.kind === "table" && runs.rows.length).toBe(2);
    const [first] = await run(
      context,
      recipient,
      `SELECT * FROM '${share}.churn.runs' VERSION AS OF 1 LIMIT 1`,
    );
    expect(first?.kind === "table" && first.rows.length).toBe(1);
    const [metrics] = await run(
      context,
      recipient,
      `SELECT key, step FROM '${credentials.profilePath}#${share}.churn.metrics' WHERE step < 2 LIMIT 100`,
    );
    expect(metrics?.kind === "table" && metrics.rows.every((row) => Number(row[1]) < 2)).toBe(true);

    const imported = `imported-${id}`;
    await run(context, recipient, `CREATE EXPERIMENT '${imported}' USING SHARE '${share}.churn'`);
    await run(
      context,
      recipient,
      `CREATE OR REPLACE EXPERIMENT '${imported}' USING SHARE '${share}.churn' VERSION AS OF 1`,
    );
    const recipientMlflow = new MlflowClient({ trackingUri: recipientUri });
    expect((await recipientMlflow.experiments.getByName(imported)).name).toBe(imported);
    await run(context, recipient, `CREATE MODEL 'imported-model-${id}' USING SHARE '${share}.classifier'`);
  });
});
