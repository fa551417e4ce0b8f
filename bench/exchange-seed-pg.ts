// Grows a seeded experiment in a PostgreSQL-backed MLflow to N runs in minutes rather than hours:
// a small experiment is seeded through MLflow's REST API (src/peers/seed.ts), then its runs are
// cloned at the SQL level, whole families at a time (a parent with its children), in the tables
// MLflow's SQL store reads a run from (.venv's mlflow/store/tracking/dbmodels/models.py: runs,
// tags, params, metrics, latest_metrics, inputs and input_tags), and each run's artifact folder is
// copied in the server's artifact store. A clone is its original with a new run id (and a
// name suffix): same params, tags, histories, datasets and files. The first clone of a family is
// read back through the REST API and compared with its original before anything else is cloned.
//
// Columns are taken from the database itself (information_schema), so a migration that adds one
// is copied as it is; only the run's id, its name, its artifact location, its parent and the input
// ids are rewritten. Used by bench/exchange.ts (`--seed pg-clone`) and bench/exchange-export.ts.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { MlflowClient } from "../src/mlflow/index.js";
import type { MlflowServer } from "../src/peers/mlflow-server.js";
import { postgresBinDir } from "../src/peers/postgres.js";
import { type SeedOptions, seedExperiment } from "../src/peers/seed.js";

export interface CloneSeedOptions extends Omit<SeedOptions, "runs" | "modelName"> {
  /** Runs wanted in all (top-level and nested), at least. */
  runs: number;
  /** Runs seeded through the REST API and then cloned. Default min(runs, 50). */
  baseRuns?: number;
}

/** Families (a parent, then its children) of the base runs: what a clone copies at once. */
interface Family {
  parent: string;
  children: string[];
}

/** Runs SQL (on stdin, so any length) against the server's database; unaligned tuples out. */
function psql(storeUri: string, sql: string): string {
  const bin = postgresBinDir();
  if (!bin) throw new Error("exchange-seed-pg: PostgreSQL's psql is not installed");
  const url = storeUri.replace(/^postgresql\+psycopg2:/, "postgresql:");
  return execFileSync(join(bin, "psql"), [url, "-At", "-v", "ON_ERROR_STOP=1", "-q", "-f", "-"], {
    input: sql,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  }).trim();
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The columns of a table, in order. */
function columns(storeUri: string, table: string): string[] {
  return psql(
    storeUri,
    `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${quote(table)} ORDER BY ordinal_position;`,
  ).split("\n");
}

/**
 * `INSERT INTO table (cols) SELECT <cols, some rewritten> FROM table t JOIN clone_map m ON …`:
 * every column copied as it is but those in `rewrite` (SQL over `t` and `m`).
 */
function cloneStatement(
  storeUri: string,
  table: string,
  join_: string,
  rewrite: Record<string, string>,
  extraFrom = "",
): string {
  const cols = columns(storeUri, table);
  const select = cols.map((c) => rewrite[c] ?? `t.${c}`).join(", ");
  return `INSERT INTO ${table} (${cols.join(", ")}) SELECT ${select} FROM ${table} t JOIN clone_map m ON ${join_} ${extraFrom};`;
}

/**
 * Seeds `options.baseRuns` runs through `client` (MLflow's REST API), then clones their
 * families at the SQL level until the experiment holds at least `options.runs` runs. Returns the
 * experiment's id and every run's id (the base runs first).
 */
export async function seedByCloning(
  server: MlflowServer,
  client: MlflowClient,
  options: CloneSeedOptions,
): Promise<{ experimentId: string; runIds: string[] }> {
  const storeUri = server.backendStoreUri;
  if (!storeUri.startsWith("postgresql")) {
    throw new Error(`exchange-seed-pg: ${server.uri} is not PostgreSQL-backed (${storeUri})`);
  }
  const baseRuns = Math.min(options.runs, options.baseRuns ?? 50);
  // seedExperiment's `runs` counts top-level runs: every third has two children.
  const seeded = await seedExperiment(client, { ...options, runs: Math.ceil(baseRuns / (5 / 3)) });
  const experimentId = seeded.experimentId;
  const runIds = [...seeded.runIds];
  const families = familiesOf(storeUri, seeded.runIds);
  const artifactRoot = join(server.dir, "artifacts", experimentId);

  // Which families each copy takes: all of them, the last copy only as many as reach `runs`.
  const wanted: Array<{ copy: number; family: Family }> = [];
  for (let copy = 1, total = runIds.length; total < options.runs; copy++) {
    for (const family of families) {
      if (total >= options.runs) break;
      wanted.push({ copy, family });
      total += 1 + family.children.length;
    }
  }
  // Rounds of a few thousand runs: each one transaction, its progress printed.
  const ROUND = 2000;
  let verified = false;
  for (let start = 0; start < wanted.length; ) {
    const rows: Array<{ old: string; fresh: string; copy: number; parent: string | null }> = [];
    for (; start < wanted.length && rows.length < ROUND; start++) {
      const { copy, family } = wanted[start]!;
      const parent = randomUUID().replaceAll("-", "");
      rows.push({ old: family.parent, fresh: parent, copy, parent: null });
      for (const child of family.children) {
        rows.push({ old: child, fresh: randomUUID().replaceAll("-", ""), copy, parent });
      }
    }
    cloneRound(storeUri, rows);
    for (const row of rows) {
      const from = join(artifactRoot, row.old);
      if (existsSync(from)) cpSync(from, join(artifactRoot, row.fresh), { recursive: true });
      runIds.push(row.fresh);
    }
    if (!verified) {
      // A child's clone: it holds a rewritten parent tag as well as everything else.
      const child = rows.find((r) => r.parent !== null) ?? rows[0]!;
      await compareClone(client, child.old, child.fresh, child.parent);
      verified = true;
    }
    process.stderr.write(`exchange-seed-pg: ${runIds.length} of ${options.runs} runs\n`);
  }
  return { experimentId, runIds };
}

/** The families of the seeded runs, from their parent tags (children in seeding order). */
function familiesOf(storeUri: string, runIds: string[]): Family[] {
  const parents = new Map<string, string>();
  const out = psql(
    storeUri,
    `SELECT run_uuid, value FROM tags WHERE key = 'mlflow.parentRunId' AND run_uuid IN (${runIds.map(quote).join(", ")});`,
  );
  for (const line of out ? out.split("\n") : []) {
    const [child, parent] = line.split("|") as [string, string];
    parents.set(child, parent);
  }
  const families = new Map<string, Family>();
  for (const id of runIds) {
    const parent = parents.get(id);
    if (parent === undefined) families.set(id, { parent: id, children: [] });
  }
  for (const id of runIds) {
    const parent = parents.get(id);
    if (parent !== undefined) families.get(parent)?.children.push(id);
  }
  return [...families.values()];
}

/** One transaction: the map of old to new run ids, then every table's rows copied through it. */
function cloneRound(
  storeUri: string,
  rows: Array<{ old: string; fresh: string; copy: number; parent: string | null }>,
): void {
  const values = rows
    .map((r) => `(${quote(r.old)}, ${quote(r.fresh)}, ${r.copy}, ${r.parent ? quote(r.parent) : "NULL"})`)
    .join(",\n");
  const suffix = "' (clone ' || m.copy || ')'";
  const sql = [
    "BEGIN;",
    "CREATE TEMP TABLE clone_map (old text, fresh text, copy int, parent text) ON COMMIT DROP;",
    `INSERT INTO clone_map VALUES ${values};`,
    cloneStatement(storeUri, "runs", "t.run_uuid = m.old", {
      run_uuid: "m.fresh",
      name: `t.name || ${suffix}`,
      artifact_uri: "replace(t.artifact_uri, m.old, m.fresh)",
    }),
    cloneStatement(storeUri, "tags", "t.run_uuid = m.old", {
      run_uuid: "m.fresh",
      value: `CASE WHEN t.key = 'mlflow.parentRunId' THEN m.parent WHEN t.key = 'mlflow.runName' THEN t.value || ${suffix} ELSE t.value END`,
    }),
    cloneStatement(storeUri, "params", "t.run_uuid = m.old", { run_uuid: "m.fresh" }),
    cloneStatement(storeUri, "metrics", "t.run_uuid = m.old", { run_uuid: "m.fresh" }),
    cloneStatement(storeUri, "latest_metrics", "t.run_uuid = m.old", { run_uuid: "m.fresh" }),
    // An input's id is new per clone: md5 of the old id and the run's new id (32 hex, as uuid4 hex).
    cloneStatement(storeUri, "inputs", "t.destination_type = 'RUN' AND t.destination_id = m.old", {
      input_uuid: "md5(t.input_uuid || m.fresh)",
      destination_id: "m.fresh",
    }),
    cloneStatement(
      storeUri,
      "input_tags",
      "true",
      { input_uuid: "md5(t.input_uuid || m.fresh)" },
      "JOIN inputs i ON i.input_uuid = t.input_uuid AND i.destination_type = 'RUN' AND i.destination_id = m.old",
    ),
    "COMMIT;",
  ].join("\n");
  psql(storeUri, sql);
}

/**
 * Reads an original and its clone back through MLflow's REST API and throws unless they agree
 * on all but the run id, the name (and the parent, which must be `parent`): params, tags,
 * latest metrics, every history, dataset inputs and the artifact files.
 */
async function compareClone(
  client: MlflowClient,
  original: string,
  clone: string,
  parent: string | null,
): Promise<void> {
  const [a, b] = await Promise.all([client.runs.get(original), client.runs.get(clone)]);
  // MLflow answers a run's params, tags and latest metrics in no set order: compared by key.
  const byKey = <T extends { key: string }>(xs: T[] | undefined) =>
    [...(xs ?? [])].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const strip = (run: typeof a, id: string) =>
    JSON.stringify({
      status: run.info.status,
      start: run.info.start_time,
      end: run.info.end_time,
      user: run.info.user_id,
      params: byKey(run.data.params),
      tags: byKey(run.data.tags).filter((t) => !["mlflow.runName", "mlflow.parentRunId"].includes(t.key)),
      metrics: byKey(run.data.metrics),
      inputs: run.inputs,
    }).replaceAll(id, "<run>");
  const problems: string[] = [];
  if (strip(a, original) !== strip(b, clone)) {
    problems.push(`the run's fields differ: ${strip(b, clone)} against ${strip(a, original)}`);
  }
  if (b.info.artifact_uri !== a.info.artifact_uri?.replace(original, clone)) problems.push("artifact_uri");
  const parentTag = b.data.tags?.find((t) => t.key === "mlflow.parentRunId")?.value ?? null;
  if (parentTag !== parent) problems.push(`parent tag ${parentTag}, not ${parent}`);
  for (const metric of a.data.metrics ?? []) {
    const [ha, hb] = await Promise.all([
      client.metrics.historyPage(original, metric.key),
      client.metrics.historyPage(clone, metric.key),
    ]);
    const points = (h: typeof ha) =>
      JSON.stringify(h.items.map(({ value, step, timestamp }) => [value, step, timestamp]));
    if (points(ha) !== points(hb)) problems.push(`history of ${metric.key}`);
  }
  const files = async (run: typeof a) =>
    (await client.artifacts.listFiles(run.info.artifact_uri!)).map((f) => `${f.path}:${f.size}`).join(",");
  const [fa, fb] = await Promise.all([files(a), files(b)]);
  if (fa !== fb || fa === "") problems.push(`artifact files ${fb} against ${fa}`);
  if (problems.length > 0) {
    throw new Error(
      `exchange-seed-pg: clone ${clone} of ${original} reads back differently: ${problems.join("; ")}`,
    );
  }
}
