# Reads Delta tables with delta-rs (the `deltalake` package) and prints, per table and version,
# the schema and the rows in the JSON rendering of src/delta/json.ts, so the TypeScript test can
# compare them with arcuate's. One process for every table: argv[1] is a JSON file listing
# {"name", "path", "versions"} entries; the result is one JSON document on the last line.
import base64
import datetime
import hashlib
import decimal
import json
import math
import sys
import time

import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder

MAX_SAFE = 2**53 - 1
EPOCH = datetime.datetime(1970, 1, 1)


def fmt_decimal(unscaled, scale):
    neg = unscaled < 0
    digits = str(-unscaled if neg else unscaled)
    if scale > 0:
        digits = digits.rjust(scale + 1, "0")
        digits = digits[:-scale] + "." + digits[-scale:]
    elif scale < 0:
        digits += "0" * (-scale)
    return ("-" if neg else "") + digits


def fmt_ts(v, utc):
    if v.tzinfo is not None:
        v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06d%s" % (
        v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, "Z" if utc else "")


def conv(v, t):
    if v is None:
        return None
    if pa.types.is_struct(t):
        return {t.field(i).name: conv(v.get(t.field(i).name), t.field(i).type) for i in range(t.num_fields)}
    if pa.types.is_map(t):
        if pa.types.is_string(t.key_type) or pa.types.is_large_string(t.key_type) or pa.types.is_string_view(t.key_type):
            return {k: conv(x, t.item_type) for k, x in v}
        return [[conv(k, t.key_type), conv(x, t.item_type)] for k, x in v]
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t) or pa.types.is_fixed_size_list(t):
        return [conv(x, t.value_type) for x in v]
    if pa.types.is_timestamp(t):
        return fmt_ts(v, t.tz is not None)
    if pa.types.is_date(t):
        return v.isoformat()
    if pa.types.is_decimal(t):
        if isinstance(v, str):  # already rendered by pyarrow (top-level columns, see read())
            return v
        return fmt_decimal(int(v.scaleb(t.scale, decimal.Context(prec=100))), t.scale)
    if pa.types.is_floating(t):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if pa.types.is_integer(t):
        return v if abs(v) <= MAX_SAFE else str(v)
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t) or pa.types.is_binary_view(t):
        return base64.b64encode(v).decode("ascii")
    return v


def js_number(v):
    """A finite float as JavaScript's Number#toString writes it (shortest round-trip digits)."""
    if v == int(v) and abs(v) < 2**53:
        return str(int(v))
    r = repr(v)
    mantissa, _, exp = r.partition("e")
    if 1e-6 <= abs(v) < 1e21:
        return format(decimal.Decimal(r), "f")
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    e = int(exp)
    return "%se%s%d" % (mantissa, "+" if e >= 0 else "-", abs(e))


def canonical(v):
    """Mirror of test/delta/support/canonical.ts: JSON with sorted keys, numbers as JavaScript writes them."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return js_number(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(canonical(x) for x in v) + "]"
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(v[k]) for k in sorted(v)) + "}"


def digest(rows):
    """Order-independent digest of rows: sum of the first 8 bytes of each row's SHA-256, mod 2**64."""
    total = 0
    for row in rows:
        total = (total + int.from_bytes(hashlib.sha256(row.encode("utf-8")).digest()[:8], "big")) % (1 << 64)
    return "%016x" % total


def strip_metadata(schema):
    if isinstance(schema, dict):
        return {k: strip_metadata(x) for k, x in schema.items() if k != "metadata"}
    if isinstance(schema, list):
        return [strip_metadata(x) for x in schema]
    return schema


def read(path, version):
    try:
        dt = DeltaTable(path, version=version)
        schema = strip_metadata(json.loads(dt.schema().to_json()))
        # delta-rs's own engine (DataFusion): to_pyarrow_table goes through pyarrow datasets, which
        # mis-read column-mapped tables (all nulls) and fail on negative decimal partitions.
        table = pa.table(QueryBuilder().register("t", dt).execute("select * from t").read_all())
    except Exception as e:  # delta-rs refuses: report its message
        return {"error": (type(e).__name__ + ": " + str(e))[:500]}
    fields = [(table.schema.field(i).name, table.schema.field(i).type) for i in range(len(table.schema))]
    # Column by column, each value straight to its canonical text; rows are then joined in sorted
    # key order. Top-level decimals are rendered by pyarrow's cast (fixed notation, `scale` digits):
    # one Decimal object per value is far too slow for the million-row tables.
    rendered = {}
    for i, (name, t) in enumerate(fields):
        column = table.column(i)
        if pa.types.is_decimal(t) and t.scale >= 0:
            rendered[name] = [
                "null" if v is None else '"' + (v if "E" not in v else fmt_decimal(int(decimal.Decimal(v).scaleb(t.scale)), t.scale)) + '"'
                for v in column.cast(pa.string()).to_pylist()
            ]
        elif pa.types.is_integer(t):
            rendered[name] = [
                "null" if v is None else (str(v) if abs(v) <= MAX_SAFE else '"%d"' % v) for v in column.to_pylist()
            ]
        elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
            rendered[name] = ["null" if v is None else json.dumps(v, ensure_ascii=False) for v in column.to_pylist()]
        else:
            rendered[name] = [canonical(conv(v, t)) for v in column.to_pylist()]
    names = sorted(rendered)
    prefixes = [json.dumps(n, ensure_ascii=False) + ":" for n in names]
    rows = [
        "{" + ",".join(p + v for p, v in zip(prefixes, values)) + "}"
        for values in zip(*(rendered[n] for n in names))
    ] if names else [("{}") for _ in range(table.num_rows)]
    result = {"schema": schema, "count": len(rows), "digest": digest(rows)}
    if len(rows) <= 2000:  # small enough to show the first differing row
        result["rows"] = sorted(rows)
    return result


def read_cdf(path, start, end):
    """delta-rs's change data feed, with _commit_timestamp as epoch milliseconds."""
    try:
        dt = DeltaTable(path)
        feed = dt.load_cdf(starting_version=start, ending_version=end)
        table = pa.table(feed.read_all())
    except Exception as e:
        return {"error": (type(e).__name__ + ": " + str(e))[:500]}
    rows = []
    fields = [(f.name, f.type) for f in table.schema]
    columns = [table.column(i).to_pylist() for i in range(len(fields))]
    for r in range(table.num_rows):
        row = {}
        for c, (name, t) in enumerate(fields):
            v = columns[c][r]
            if name == "_commit_timestamp":
                row[name] = None if v is None else int((v.replace(tzinfo=None) - EPOCH).total_seconds() * 1000 + 0.5)
            else:
                row[name] = conv(v, t)
        rows.append(canonical(row))
    return {"count": len(rows), "digest": digest(rows), "rows": sorted(rows)}


def main():
    with open(sys.argv[1]) as f:
        tables = json.load(f)
    out = {}
    for entry in tables:
        started = time.time()
        out[entry["name"]] = {("null" if v is None else str(v)): read(entry["path"], v) for v in entry["versions"]}
        for start, end in entry.get("cdf", []):
            out[entry["name"]]["cdf:%s:%s" % (start, "null" if end is None else end)] = read_cdf(entry["path"], start, end)
        print("%s %.2fs" % (entry["name"], time.time() - started), file=sys.stderr)
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)
    print(json.dumps({"ok": True}))


main()
