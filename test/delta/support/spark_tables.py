# Delta tables the conformance test has Spark write (beside the golden fixtures): variant columns
# and type widening, each over several versions, so arcuate is checked on what Spark 4.2 writes
# today. Imported by spark_oracle.py inside its one Spark session; each writer returns
# (name, path, latest version). The tables land in the oracle's cache folder with its answers.
import os
import shutil


def variant_table(spark, root):
    path = os.path.join(root, "spark-variant-written")
    shutil.rmtree(path, ignore_errors=True)
    docs = [
        '{"a": 1, "b": [true, false, null], "c": {"d": "é ünï \\"q\\" \\n", "e": -12345678901234}}',
        '{"big": 9007199254740993, "dec": 12.50, "neg": -0.000123, "dbl": 1.5e300, "small": 1e-7}',
        '[1, "two", 3.25, {"four": [4]}, [], {}]',
        '"just a string"',
        "123456789012345678901234567890.123",
        "null",
        '{"zeta": 1, "alpha": 2, "mid": {"y": 1, "x": 2}}',
    ]
    values = ", ".join("(%d, '%s')" % (i, d.replace("'", "''").replace("\\", "\\\\")) for i, d in enumerate(docs))
    spark.sql(
        "CREATE TABLE delta.`%s` (id BIGINT, v VARIANT, arr ARRAY<VARIANT>, s STRUCT<v: VARIANT>, "
        "m MAP<STRING, VARIANT>) USING DELTA TBLPROPERTIES (delta.checkpointInterval = 3)" % path
    )
    # v1: JSON documents, one per row; the same value nested in an array, a struct and a map.
    spark.sql(
        "INSERT INTO delta.`%s` SELECT id, parse_json(j), array(parse_json(j), null), "
        "named_struct('v', parse_json(j)), map('k', parse_json(j), 'none', null) "
        "FROM VALUES %s AS t(id, j)" % (path, values)
    )
    # v2: typed values cast to variant (dates, timestamps, binary, decimals, floats, NaN).
    spark.sql(
        "INSERT INTO delta.`%s` SELECT 100 + id, v, array(v), named_struct('v', v), map('k', v) FROM ("
        "SELECT 0 AS id, CAST(DATE'2024-02-29' AS VARIANT) AS v UNION ALL "
        "SELECT 1, CAST(TIMESTAMP'2024-03-01 12:34:56.123456' AS VARIANT) UNION ALL "
        "SELECT 2, CAST(TIMESTAMP_NTZ'1969-12-31 23:59:59.999999' AS VARIANT) UNION ALL "
        "SELECT 3, CAST(X'00FF10' AS VARIANT) UNION ALL "
        "SELECT 4, CAST(CAST(-1.25 AS DECIMAL(20, 4)) AS VARIANT) UNION ALL "
        "SELECT 5, CAST(CAST(0.1 AS FLOAT) AS VARIANT) UNION ALL "
        "SELECT 6, CAST(CAST('NaN' AS DOUBLE) AS VARIANT) UNION ALL "
        "SELECT 7, CAST(CAST(-7 AS TINYINT) AS VARIANT) UNION ALL "
        "SELECT 8, CAST(NULL AS VARIANT) UNION ALL "
        "SELECT 9, CAST(repeat('long string ', 20) AS VARIANT) UNION ALL "
        "SELECT 10, to_variant_object(named_struct('n', 1, 'list', array(1, 2)))"
        ")" % path
    )
    # v3: a delete (a rewrite of the file; with deletion vectors where the table has them).
    spark.sql("DELETE FROM delta.`%s` WHERE id IN (2, 103)" % path)
    # v4: an update, then v5 another append (a checkpoint at v3 is read back).
    spark.sql("UPDATE delta.`%s` SET v = parse_json('{\"updated\": true}') WHERE id = 0" % path)
    spark.sql(
        "INSERT INTO delta.`%s` SELECT 200, parse_json('[[[1]]]'), NULL, NULL, NULL" % path
    )
    return "spark-variant-written", path, 5


# Every widening the protocol's typeWidening section lists, one column each, applied with
# ALTER TABLE … ALTER COLUMN … TYPE after rows of the narrower type were written.
WIDENINGS = [
    ("b_short", "TINYINT", "SMALLINT", "CAST(-100 + id AS TINYINT)"),
    ("b_int", "TINYINT", "INT", "CAST(id AS TINYINT)"),
    ("s_long", "SMALLINT", "BIGINT", "CAST(-30000 + id AS SMALLINT)"),
    ("i_long", "INT", "BIGINT", "CAST(2147483600 + id AS INT)"),
    ("f_double", "FLOAT", "DOUBLE", "CAST(id / 3 AS FLOAT)"),
    ("b_double", "TINYINT", "DOUBLE", "CAST(id AS TINYINT)"),
    ("s_double", "SMALLINT", "DOUBLE", "CAST(-id AS SMALLINT)"),
    ("i_double", "INT", "DOUBLE", "CAST(-2147483000 - id AS INT)"),
    ("d_ntz", "DATE", "TIMESTAMP_NTZ", "date_add(DATE'1969-12-25', CAST(id AS INT))"),
    ("dec_wider", "DECIMAL(5, 2)", "DECIMAL(10, 4)", "CAST(id * 1.25 - 3 AS DECIMAL(5, 2))"),
    ("dec_precision", "DECIMAL(9, 3)", "DECIMAL(20, 3)", "CAST(-id * 1000.125 AS DECIMAL(9, 3))"),
    ("dec_big", "DECIMAL(18, 2)", "DECIMAL(38, 10)", "CAST(id * 12345678901.23 AS DECIMAL(18, 2))"),
    ("b_dec", "TINYINT", "DECIMAL(11, 1)", "CAST(-id AS TINYINT)"),
    ("s_dec", "SMALLINT", "DECIMAL(12, 2)", "CAST(id * 300 AS SMALLINT)"),
    ("i_dec", "INT", "DECIMAL(10, 0)", "CAST(-2147483000 - id AS INT)"),
    ("l_dec", "BIGINT", "DECIMAL(25, 5)", "CAST(9000000000000000000 + id AS BIGINT)"),
]


def wide_value(type_name):
    if type_name == "TIMESTAMP_NTZ":
        return "CAST(date_add(DATE'2030-01-01', CAST(id AS INT)) AS TIMESTAMP_NTZ) + INTERVAL 1 SECOND"
    return "CAST(id * 7 AS %s)" % type_name


def type_widening_table(spark, root):
    path = os.path.join(root, "spark-type-widening-written")
    shutil.rmtree(path, ignore_errors=True)
    columns = ", ".join("%s %s" % (name, old) for name, old, _, _ in WIDENINGS)
    spark.sql(
        "CREATE TABLE delta.`%s` (id BIGINT, %s, st STRUCT<x: INT>, arr ARRAY<SMALLINT>, "
        "m MAP<INT, FLOAT>) USING DELTA "
        "TBLPROPERTIES (delta.enableTypeWidening = true, delta.checkpointInterval = 4, "
        "'delta.feature.timestampNtz' = 'supported')" % (path, columns)
    )
    exprs = ", ".join(expr for _, _, _, expr in WIDENINGS)
    insert = (
        "INSERT INTO delta.`%s` SELECT id, %s, named_struct('x', CAST(id AS INT)), "
        "array(CAST(id AS SMALLINT), NULL), IF(id IS NULL, NULL, map(CAST(id AS INT), CAST(id / 4 AS FLOAT))) "
        "FROM (SELECT id FROM range(%d, %d) UNION ALL SELECT NULL)"
    )
    spark.sql(insert % (path, exprs, 0, 5))  # v1
    version = 1
    changes = ["%s TYPE %s" % (name, new) for name, _, new, _ in WIDENINGS]
    nested = ["st.x TYPE BIGINT", "arr.element TYPE INT", "m.key TYPE BIGINT", "m.value TYPE DOUBLE"]
    # Two commits of many changes each where Spark takes several in one ALTER (fewer Spark jobs).
    for group in (changes, nested):
        try:
            spark.sql("ALTER TABLE delta.`%s` ALTER COLUMN %s" % (path, ", ".join(group)))
            version += 1
        except Exception:
            for change in group:
                spark.sql("ALTER TABLE delta.`%s` ALTER COLUMN %s" % (path, change))
                version += 1
    # Rows of the wider types after the changes, beside the files of the narrower ones.
    spark.sql(
        "INSERT INTO delta.`%s` SELECT id, %s, named_struct('x', id * 10000000000), array(id * 100000), "
        "map(id * 10000000000, id / 7) FROM range(1000, 1003)"
        % (path, ", ".join(wide_value(new) for _, _, new, _ in WIDENINGS))
    )
    return "spark-type-widening-written", path, version + 1


def latest_version(path):
    log = os.path.join(path, "_delta_log")
    return max(int(name[:20]) for name in os.listdir(log) if name.endswith(".json") and name[:20].isdigit())


def write_all(spark, root):
    os.makedirs(root, exist_ok=True)
    written = [variant_table(spark, root), type_widening_table(spark, root)]
    return [(name, path, latest_version(path)) for name, path, _ in written]
