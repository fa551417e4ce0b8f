# Apache Spark (pyspark + delta-spark) as the Delta conformance oracle: one local Spark session
# first writes the test's own Spark tables (spark_tables.py), then reads every version of every
# table and writes, per table and version, the schema and the rows in the JSON rendering of
# src/delta/json.ts (or Spark's refusal), for test/delta/support/spark.ts to compare with arcuate.
# argv[1]: JSON {"jars": [...], "tables": [{"name", "path", "versions"}], "write_dir": path};
# argv[2]: the answers file, written whole at the end.
import os
import time

os.environ["TZ"] = "UTC"  # pyspark hands timestamps to Python as naive local times
time.tzset()

import concurrent.futures  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

from pyspark.sql import SparkSession  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spark_render import canonical, conv, digest, strip_metadata  # noqa: E402


def message_of(e):
    text = str(getattr(e, "desc", None) or e)
    # The first line names the reason; JVM stack traces follow it.
    return (type(e).__name__ + ": " + text.strip().split("\n")[0])[:600]


def read(spark, path, version):
    try:
        reader = spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        df = reader.load(path)
        schema = df.schema
        try:
            rows = [
                canonical({f.name: conv(row[i], f.dataType) for i, f in enumerate(schema.fields)})
                for row in df.collect()
            ]
        except TypeError as e:
            if "unhashable" not in str(e):
                raise
            # pyspark's rows hold a map as a dict, which cannot have a key of an array or struct
            # (table-with-columnmapping-*): Arrow's rows hold it as (key, value) pairs.
            rows = [
                canonical({f.name: conv(row[f.name], f.dataType) for f in schema.fields})
                for row in df.toArrow().to_pylist()
            ]
    except Exception as e:  # Spark refuses: its message is the answer
        return {"error": message_of(e)}
    result = {"schema": strip_metadata(json.loads(schema.json())), "count": len(rows), "digest": digest(rows)}
    if len(rows) <= 2000:
        result["rows"] = sorted(rows)
    return result


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    started = time.time()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("arcuate-delta-oracle")
        .config("spark.jars", ",".join(job["jars"]))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.databricks.delta.vacuum.enforceTimeTravelWithinDeletedFileRetentionDuration", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # Hundreds of tiny queries: compiling code for each, adaptive planning and wide
        # shuffles cost more than they save here.
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.databricks.delta.snapshotPartitions", "1")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.warehouse.dir", os.path.join(job["write_dir"], "warehouse"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    # Seconds per step, kept with the answers: what a cold run costs (docs/delta.md).
    timings = {"session": round(time.time() - started, 1)}
    print("spark session %.1fs" % timings["session"], file=sys.stderr)
    tables = list(job["tables"])
    if job.get("write_dir"):
        import spark_tables

        for name, path, latest in spark_tables.write_all(spark, job["write_dir"]):
            tables.append({"name": name, "path": path, "versions": list(range(latest + 1))})
        timings["write"] = round(time.time() - started - timings["session"], 1)
    def read_table(entry):
        t0 = time.time()
        answers = {("null" if v is None else str(v)): read(spark, entry["path"], v) for v in entry["versions"]}
        timings[entry["name"]] = round(time.time() - t0, 2)
        print("%s %.2fs" % (entry["name"], timings[entry["name"]]), file=sys.stderr, flush=True)
        return entry["name"], answers

    # Two tables at a time: one thread's Python work overlaps the other's Spark job.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        out = dict(pool.map(read_table, tables))
    spark.stop()
    partial = sys.argv[2] + ".partial-%d" % os.getpid()
    with open(partial, "w") as f:
        json.dump({"seconds": round(time.time() - started, 1), "timings": timings, "tables": out}, f)
    os.replace(partial, sys.argv[2])
    print(json.dumps({"ok": True, "seconds": round(time.time() - started, 1)}))


main()
