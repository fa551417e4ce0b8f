# Values as src/delta/json.ts renders them, for the Python side of the conformance tests
# (spark_oracle.py for Spark's rows, connector_read.py for the sharing connector's): binary as
# base64, timestamps ISO 8601 with microseconds, decimals as strings, variants as JSON text
# (docs/delta.md), rows as canonical JSON (test/delta/support/canonical.ts).
import base64
import datetime
import decimal
import hashlib
import json
import math
import uuid

from pyspark.sql import types as T

# pyspark builds a variant's decimals by multiplying in the thread's decimal context: the default
# 28 digits would round a decimal(38) (every thread's context starts as a copy of DefaultContext).
decimal.DefaultContext.prec = 100
decimal.setcontext(decimal.Context(prec=100))

MAX_SAFE = 2**53 - 1
EPOCH = datetime.datetime(1970, 1, 1)


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
    total = 0
    for row in rows:
        total = (total + int.from_bytes(hashlib.sha256(row.encode("utf-8")).digest()[:8], "big")) % (1 << 64)
    return "%016x" % total


def fmt_decimal(unscaled, scale):
    neg = unscaled < 0
    digits = str(-unscaled if neg else unscaled)
    if scale > 0:
        digits = digits.rjust(scale + 1, "0")
        digits = digits[:-scale] + "." + digits[-scale:]
    elif scale < 0:
        digits += "0" * (-scale)
    return ("-" if neg else "") + digits


def fmt_date(d):
    return "%04d-%02d-%02d" % (d.year, d.month, d.day)


def fmt_ts(v, utc):
    if v.tzinfo is not None:
        v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return "%sT%02d:%02d:%02d.%06d%s" % (fmt_date(v), v.hour, v.minute, v.second, v.microsecond, "Z" if utc else "")


def float_json(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def variant_json(v):
    """A variant value (pyspark's VariantVal.toPython()) as the JSON text arcuate gives (docs/delta.md)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return json.dumps(float_json(v)) if isinstance(float_json(v), str) else js_number(v)
    if isinstance(v, decimal.Decimal):
        sign, digits, exp = v.as_tuple()
        return fmt_decimal(int(v.scaleb(-exp)), -exp) if exp <= 0 else str(int(v))
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, datetime.datetime):
        return json.dumps(fmt_ts(v, v.tzinfo is not None))
    if isinstance(v, datetime.date):
        return json.dumps(fmt_date(v))
    if isinstance(v, (bytes, bytearray)):
        return json.dumps(base64.b64encode(bytes(v)).decode("ascii"))
    if isinstance(v, uuid.UUID):
        return json.dumps(str(v))
    if isinstance(v, list):
        return "[" + ",".join(variant_json(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + variant_json(x) for k, x in v.items()) + "}"
    raise TypeError("variant value of Python type %s" % type(v).__name__)


def conv(v, t):
    """A value of Spark type t, as collected by pyspark, in src/delta/json.ts's rendering."""
    if v is None:
        return None
    if isinstance(t, T.StructType):
        get = v.asDict() if hasattr(v, "asDict") else v
        return {f.name: conv(get.get(f.name) if isinstance(get, dict) else None, f.dataType) for f in t.fields}
    if isinstance(t, T.MapType):
        items = v.items() if isinstance(v, dict) else v
        if isinstance(t.keyType, T.StringType):
            return {k: conv(x, t.valueType) for k, x in items}
        return [[conv(k, t.keyType), conv(x, t.valueType)] for k, x in items]
    if isinstance(t, T.ArrayType):
        return [conv(x, t.elementType) for x in v]
    if isinstance(t, T.TimestampType):
        return fmt_ts(v.replace(tzinfo=None) if v.tzinfo is None else v, True)
    if isinstance(t, T.TimestampNTZType):
        return fmt_ts(v, False)
    if isinstance(t, T.DateType):
        return fmt_date(v)
    if isinstance(t, T.DecimalType):
        return fmt_decimal(int(v.scaleb(t.scale, decimal.Context(prec=100))), t.scale)
    if isinstance(t, (T.FloatType, T.DoubleType)):
        return float_json(v)
    if isinstance(t, T.LongType):
        return v if abs(v) <= MAX_SAFE else str(v)
    if isinstance(t, T.BinaryType):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(t, T.VariantType):
        return variant_json(v.toPython())
    return v


def strip_metadata(schema):
    if isinstance(schema, dict):
        return {k: strip_metadata(x) for k, x in schema.items() if k != "metadata"}
    if isinstance(schema, list):
        return [strip_metadata(x) for x in schema]
    return schema
