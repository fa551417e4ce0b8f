# Reads tables through a Delta Sharing server with the official Python connector (delta-sharing,
# delta format: delta-kernel-rust reads the files) and renders each version's rows in the JSON
# form of src/delta/json.ts, as spark_oracle.py renders Spark's, so the test can compare them.
# argv[1]: JSON {"profile", "tables": [{"name", "versions", "schemas": {version: delta schema}}]}.
import base64
import datetime
import decimal
import json
import math
import sys

import delta_sharing
import numpy as np
import pandas as pd

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


def main():
    spec = json.loads(sys.argv[1])
    out = {}
    for table in spec["tables"]:
        url = "%s#%s" % (spec["profile"], table["name"])
        answers = out.setdefault(table["name"], {})
        for v in table["versions"]:
            schema = table["schemas"][str(v)]
            try:
                df = delta_sharing.load_as_pandas(url, version=v, use_delta_format=True)
                rows = sorted(
                    canonical({f["name"]: conv(r[f["name"]], f["type"]) for f in schema["fields"]})
                    for r in df.to_dict("records")
                )
                answers[str(v)] = {"rows": rows}
            except Exception as e:
                answers[str(v)] = {"error": (type(e).__name__ + ": " + str(e))[:500]}
    print(json.dumps(out))


main()
