# Reads tables through a Delta Sharing server with the official Python connector (delta-sharing,
# delta format: delta-kernel-rust reads the files) and renders each version's rows in the JSON
# form of src/delta/json.ts, as spark_oracle.py renders Spark's, so the test can compare them.
# Where the connector fails, the same delta-kernel-rust reads the table's own folder at that
# version (no server involved), so the test can tell arcuate's answers from the kernel's limits.
# argv[1]: JSON {"profile", "tables": [{"name", "path", "versions", "schemas": {version: delta
# schema}, "declare": [reader features the connector declares beside its own], "key": the name
# its answers go under (default "name")}]}.
import base64
import datetime
import decimal
import json
import math
import os
import shutil
import sys
import tempfile

import delta_kernel_rust_sharing_wrapper as kernel
import delta_sharing
import numpy as np
import pandas as pd
from delta_sharing.rest_client import DataSharingRestClient

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from spark_render import canonical, fmt_decimal, fmt_ts, variant_json  # noqa: E402

MAX_SAFE = 2**53 - 1


def missing(v):
    return v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def conv(v, t):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(t, dict):
        if t["type"] == "struct":
            if missing(v):
                return None
            return {f["name"]: conv(v.get(f["name"]), f["type"]) for f in t["fields"]}
        if t["type"] == "array":
            if v is None:
                return None
            return [conv(x, t["elementType"]) for x in list(v)]
        if v is None:
            return None
        items = v.items() if isinstance(v, dict) else v
        if t["keyType"] == "string":
            return {k: conv(x, t["valueType"]) for k, x in items}
        return [[conv(k, t["keyType"]), conv(x, t["valueType"])] for k, x in items]
    if missing(v):
        return None
    if t == "variant":
        from pyspark.sql.types import VariantVal

        return variant_json(VariantVal(bytes(v["value"]), bytes(v["metadata"])).toPython())
    if t in ("long", "integer", "short", "byte"):
        v = int(v)
        return v if abs(v) <= MAX_SAFE else str(v)
    if t in ("float", "double"):
        return float(v)
    if t.startswith("decimal"):
        scale = int(t.split(",")[1].strip(" )"))
        return fmt_decimal(int(decimal.Decimal(v).scaleb(scale, decimal.Context(prec=100))), scale)
    if t in ("timestamp", "timestamp_ntz"):
        ts = pd.Timestamp(v)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return fmt_ts(ts.to_pydatetime(), t == "timestamp")
    if t == "date":
        d = v.date() if isinstance(v, datetime.datetime) else v
        return "%04d-%02d-%02d" % (d.year, d.month, d.day)
    if t == "binary":
        return base64.b64encode(bytes(v)).decode("ascii")
    return v


def first_line(e):
    return (type(e).__name__ + ": " + str(e).strip().split("\n")[0])[:500]


def kernel_from_disk(path, version):
    """delta-kernel-rust (the connector's engine) on the table's own files at `version`: its log
    copied up to that version into a temporary table whose data files link to the originals."""
    log = os.path.join(path, "_delta_log")
    temp = tempfile.mkdtemp(prefix="arcuate-kernel-")
    try:
        for name in os.listdir(path):
            if name != "_delta_log":
                os.symlink(os.path.join(path, name), os.path.join(temp, name))
        os.mkdir(os.path.join(temp, "_delta_log"))
        for name in os.listdir(log):
            if name[:20].isdigit() and int(name[:20]) <= version and not name.endswith(".crc"):
                shutil.copy(os.path.join(log, name), os.path.join(temp, "_delta_log", name))
        url = "file://" + temp + "/"
        engine = kernel.PythonInterface(url)
        scan = kernel.ScanBuilder(kernel.Table(url).snapshot(engine)).build()
        rows = sum(batch.num_rows for batch in scan.execute(engine))
        return {"rows": rows}
    except Exception as e:
        return {"error": first_line(e)}
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def main():
    spec = json.loads(sys.argv[1])
    own_features = DataSharingRestClient.DELTA_SNAPSHOT_READER_FEATURES
    out = {}
    for table in spec["tables"]:
        url = "%s#%s" % (spec["profile"], table["name"])
        answers = out.setdefault(table.get("key", table["name"]), {})
        # The connector's declared reader features are a class constant (rest_client.py).
        DataSharingRestClient.DELTA_SNAPSHOT_READER_FEATURES = ",".join(
            [own_features] + [f.lower() for f in table.get("declare", [])]
        )
        for v in table["versions"]:
            schema = table["schemas"][str(v)]
            try:
                df = delta_sharing.load_as_pandas(url, version=v, use_delta_format=True)
                rows = sorted(
                    canonical({f["name"]: conv(r[f["name"]], f["type"]) for f in schema["fields"]})
                    for r in df.to_dict("records")
                )
                # pandas holds an integer column with nulls as float64 (digits past 2^53 lost).
                lossy = [
                    f["name"]
                    for f in schema["fields"]
                    if f["type"] in ("long", "integer", "short", "byte") and df[f["name"]].dtype.kind == "f"
                ]
                answers[str(v)] = {"rows": rows, "lossy": lossy}
            except Exception as e:
                answers[str(v)] = {"error": (type(e).__name__ + ": " + str(e))[:500], "first": first_line(e)}
                if table.get("path"):
                    answers[str(v)]["disk"] = kernel_from_disk(table["path"], v)
        DataSharingRestClient.DELTA_SNAPSHOT_READER_FEATURES = own_features
    print(json.dumps(out))


main()
