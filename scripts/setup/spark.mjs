// Apache Spark as the Delta conformance oracle (test/delta/golden.test.ts): the delta-spark jars
// from Maven Central, fetched once into ~/.cache/arcuate/delta-spark-<version>/ (pyspark itself is
// a pinned Python peer in python/requirements.txt). Only the io.delta and io.unitycatalog
// artifacts of `mvn dependency:tree` for delta-spark_4.2_2.13 and delta-storage are fetched: the
// rest of that tree (Scala, Hadoop, Parquet, Jackson, log4j) ships inside pyspark's own jars.
// Each jar is checked against Maven Central's SHA-1 and renamed into place whole, so an
// interrupted run leaves nothing half-written; a second run only looks at the files.
// Plain Node built-ins only: this runs before node_modules exists.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const DELTA_SPARK_VERSION = "4.4.0";
const CENTRAL = "https://repo1.maven.org/maven2";
const ARTIFACTS = [
  ["io.delta", "delta-spark_4.2_2.13", DELTA_SPARK_VERSION],
  ["io.delta", "delta-storage", DELTA_SPARK_VERSION],
  ["io.delta", "delta-kernel-api", DELTA_SPARK_VERSION],
  ["io.delta", "delta-kernel-defaults", DELTA_SPARK_VERSION],
  ["io.delta", "delta-kernel-unitycatalog", DELTA_SPARK_VERSION],
  ["io.unitycatalog", "unitycatalog-client", "0.6.0"],
  ["io.unitycatalog", "unitycatalog-hadoop", "0.6.0"],
];

/** The folder holding the jars (what the tests put on `spark.jars`). */
export function deltaSparkJarsDir() {
  return join(homedir(), ".cache", "arcuate", `delta-spark-${DELTA_SPARK_VERSION}`);
}

async function download(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`setup: ${url} answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** Java 17 for Spark: Debian's headless JRE when missing and root, else the command is printed. */
function java(log, run) {
  if (spawnSync("sh", ["-c", "command -v java"], { stdio: "ignore" }).status === 0) return;
  if (
    process.getuid?.() !== 0 ||
    spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status !== 0
  ) {
    log("Java is missing (Spark needs it); install it with: sudo apt-get install -y openjdk-17-jre-headless");
    return;
  }
  log("installing Debian's openjdk-17-jre-headless (apt-get), for Spark");
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "openjdk-17-jre-headless"], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

export async function sparkJars(log, run) {
  java(log, run);
  const dir = deltaSparkJarsDir();
  const missing = ARTIFACTS.filter(
    ([, artifact, version]) => !existsSync(join(dir, `${artifact}-${version}.jar`)),
  );
  if (missing.length === 0) return;
  mkdirSync(dir, { recursive: true });
  log(`fetching the delta-spark jars from Maven Central into ${dir}`);
  for (const [group, artifact, version] of missing) {
    const name = `${artifact}-${version}.jar`;
    const url = `${CENTRAL}/${group.replaceAll(".", "/")}/${artifact}/${version}/${name}`;
    const [jar, sha1] = await Promise.all([download(url), download(`${url}.sha1`)]);
    const expected = sha1.toString("utf8").trim().split(/\s+/)[0];
    const actual = createHash("sha1").update(jar).digest("hex");
    if (actual !== expected)
      throw new Error(`setup: ${url} has SHA-1 ${actual}, Maven Central says ${expected}`);
    const partial = join(dir, `${name}.partial-${process.pid}`);
    writeFileSync(partial, jar);
    renameSync(partial, join(dir, name));
  }
}
