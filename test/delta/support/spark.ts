// Apache Spark as the conformance oracle: spark_oracle.py reads every version of every table in
// one local Spark session (after writing the tables of spark_tables.py) and its answers are kept
// in ~/.cache/arcuate/spark-oracle/<key>/, keyed by the fixtures' content and the scripts, so a
// test run starts a Spark JVM only when one of them changed. The jars come from
// scripts/setup/spark.mjs (~/.cache/arcuate/delta-spark-<version>/), pyspark from the pinned .venv.
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { runPythonScript } from "../../support/python.js";
import type { TheirOutcome } from "./compare.js";

/** Where scripts/setup/spark.mjs puts the delta-spark jars (DELTA_SPARK_VERSION there). */
const JARS_DIR = join(homedir(), ".cache", "arcuate", "delta-spark-4.4.0");
const CACHE_DIR = join(homedir(), ".cache", "arcuate", "spark-oracle");
const SCRIPTS = ["spark_oracle.py", "spark_render.py", "spark_tables.py"].map((name) =>
  fileURLToPath(new URL(`./${name}`, import.meta.url)),
);

export interface SparkEntry {
  name: string;
  path: string;
  versions: Array<number | null>;
}

export interface SparkAnswers {
  /** Per table name, per version ("null" for latest): Spark's rows or its refusal. */
  tables: Record<string, Record<string, TheirOutcome>>;
  /** The tables Spark wrote in the test (spark_tables.py), by name → path. */
  written: Record<string, string>;
  /** Seconds the Spark run took (when it ran, not when cached). */
  seconds: number;
  cached: boolean;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** Hash of everything Spark's answers depend on: the tables' files, the scripts, the jars' names. */
function cacheKey(root: string, entries: SparkEntry[]): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify(entries.map((e) => [e.name, relative(root, e.path), e.versions])));
  for (const file of filesUnder(root).sort()) {
    hash.update(relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  for (const script of SCRIPTS) hash.update(readFileSync(script));
  hash.update(readdirSync(JARS_DIR).sort().join(","));
  return hash.digest("hex").slice(0, 24);
}

function writtenTables(dir: string): Record<string, string> {
  const tables = join(dir, "tables");
  return Object.fromEntries(
    readdirSync(tables)
      .filter((name) => statSync(join(tables, name)).isDirectory())
      .map((name) => [name, join(tables, name)]),
  );
}

/** Spark's answers for `entries` (all under `root`) and for the tables it writes itself. */
export async function readWithSpark(root: string, entries: SparkEntry[]): Promise<SparkAnswers> {
  if (!existsSync(JARS_DIR))
    throw new Error(`the delta-spark jars are missing in ${JARS_DIR}: run 'npm run setup'`);
  const key = cacheKey(root, entries);
  const dir = join(CACHE_DIR, key);
  const answersFile = join(dir, "answers.json");
  if (!existsSync(answersFile) && !(await waitForOtherRun(dir, answersFile))) {
    // Built in a folder of its own, then renamed into place whole: a run that dies leaves no answers.
    const partial = join(CACHE_DIR, `${key}.partial-${process.pid}`);
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    const jars = readdirSync(JARS_DIR)
      .filter((name) => name.endsWith(".jar"))
      .map((name) => join(JARS_DIR, name));
    writeFileSync(
      join(partial, "job.json"),
      JSON.stringify({ jars, tables: entries, write_dir: join(partial, "tables") }),
    );
    await runPythonScript(SCRIPTS[0]!, {
      args: [join(partial, "job.json"), join(partial, "answers.json")],
      // A cold run took 54 and 58 minutes on the shared 2-core machine at load 18–44 (about 10
      // CPU-minutes: docs/delta.md); the tests that wait for it allow for this limit.
      timeoutMs: 4_500_000,
    });
    rmSync(join(partial, "tables", "warehouse"), { recursive: true, force: true });
    try {
      renameSync(partial, dir);
    } catch (error) {
      // Another test run finished the same answers first: theirs are as good.
      if (!existsSync(answersFile)) throw error;
      rmSync(partial, { recursive: true, force: true });
    } finally {
      rmSync(`${dir}.lock`, { recursive: true, force: true });
    }
    const answers = readAnswers(dir);
    return { ...answers, cached: false };
  }
  return { ...readAnswers(dir), cached: true };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * At most one Spark run per key at a time (the test files that need Spark may run in parallel):
 * takes the lock and returns false, or waits for the process holding it and returns true once its
 * answers are there. A lock left by a dead process is taken over.
 */
async function waitForOtherRun(dir: string, answersFile: string): Promise<boolean> {
  const lock = `${dir}.lock`;
  mkdirSync(CACHE_DIR, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      return false;
    } catch {
      // held by another run
    }
    const owner = Number(existsSync(join(lock, "pid")) ? readFileSync(join(lock, "pid"), "utf8") : "0");
    if (existsSync(answersFile)) return true;
    if (owner > 0 && !alive(owner)) rmSync(lock, { recursive: true, force: true });
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function readAnswers(dir: string): Omit<SparkAnswers, "cached"> {
  const parsed = JSON.parse(readFileSync(join(dir, "answers.json"), "utf8")) as {
    seconds: number;
    tables: SparkAnswers["tables"];
  };
  return { ...parsed, written: writtenTables(dir) };
}
