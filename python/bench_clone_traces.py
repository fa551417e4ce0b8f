# Grows a bench provider's experiment to N traces by cloning the traces it holds at the store
# level (bench/traces.ts; seeding every trace through MLflow's write routes costs about 0.2 s a
# trace, half an hour for 10,000). A few hundred distinct traces are seeded through MLflow's own
# API first; each clone copies one of them, row for row, in every table MLflow 3.17 keeps a trace
# in (see mlflow/store/tracking/dbmodels/models.py): trace_info, trace_tags,
# trace_request_metadata, trace_metrics, spans, span_metrics, assessments and the trace's
# entity_associations. A clone gets a new trace id, new span ids (parents remapped, the same
# within the clone, also inside each span's stored OTLP JSON), new assessment ids, and its times
# shifted to one second after the latest trace, so clones are distinct traces in request order.
# MLflow's daily rollup tables (UI statistics, filled by a background job) are left to MLflow.
#
#   python bench_clone_traces.py <mlflow.db> <experiment_id> <total traces wanted>
#
# Prints one JSON line: {"cloned": n, "total": N, "example": [template trace id, clone trace id]}.
import base64
import json
import os
import sqlite3
import sys

db_path, experiment_id, wanted = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
db = sqlite3.connect(db_path, timeout=600)
db.row_factory = sqlite3.Row


def columns(table):
    # Generated columns (spans.duration_ns) are computed by SQLite, never inserted.
    return [r["name"] for r in db.execute(f"PRAGMA table_xinfo({table})") if r["hidden"] == 0]


def insert(table, rows):
    if not rows:
        return
    names = list(rows[0].keys())
    quoted = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("?" for _ in names)
    db.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", [tuple(r[n] for n in names) for r in rows])


def select(table, where, *args):
    cols = ", ".join(f'"{c}"' for c in columns(table))
    return [dict(r) for r in db.execute(f"SELECT {cols} FROM {table} WHERE {where}", args)]


infos = select("trace_info", "experiment_id = ? ORDER BY timestamp_ms, request_id", experiment_id)
have = len(infos)
if have == 0:
    sys.exit("bench_clone_traces: the experiment has no trace to clone")
need = max(0, wanted - have)
latest_ms = max(i["timestamp_ms"] for i in infos)
b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731


def clone(template, n):
    """Rows of the n-th clone of `template` (a trace_info row)."""
    old = template["request_id"]
    raw_trace = os.urandom(16)
    new = "tr-" + raw_trace.hex()
    delta_ms = latest_ms + (n + 1) * 1000 - template["timestamp_ms"]
    delta_ns = delta_ms * 1_000_000
    rows = {}
    rows["trace_info"] = [{**template, "request_id": new, "timestamp_ms": template["timestamp_ms"] + delta_ms}]
    for table in ("trace_tags", "trace_request_metadata", "trace_metrics"):
        rows[table] = [
            {**r, "request_id": new, "value": r["value"].replace(old, new) if isinstance(r["value"], str) else r["value"]}
            for r in select(table, "request_id = ?", old)
        ]
    spans = select("spans", "trace_id = ?", old)
    span_ids = {s["span_id"]: os.urandom(8) for s in spans}
    hex_of = {k: v.hex() for k, v in span_ids.items()}
    rows["spans"] = []
    for s in spans:
        content = json.loads(s["content"])
        content["trace_id"] = b64(raw_trace)
        content["span_id"] = b64(span_ids[s["span_id"]])
        if s["parent_span_id"]:
            content["parent_span_id"] = b64(span_ids[s["parent_span_id"]])
        for key in ("start_time_unix_nano", "end_time_unix_nano"):
            if content.get(key) is not None:
                content[key] = int(content[key]) + delta_ns
        for event in content.get("events") or []:
            if event.get("time_unix_nano") is not None:
                event["time_unix_nano"] = int(event["time_unix_nano"]) + delta_ns
        attributes = content.get("attributes") or {}
        if "mlflow.traceRequestId" in attributes:
            attributes["mlflow.traceRequestId"] = json.dumps(new)
        rows["spans"].append(
            {
                **s,
                "trace_id": new,
                "span_id": hex_of[s["span_id"]],
                "parent_span_id": hex_of.get(s["parent_span_id"]) if s["parent_span_id"] else None,
                "start_time_unix_nano": s["start_time_unix_nano"] + delta_ns,
                "end_time_unix_nano": None if s["end_time_unix_nano"] is None else s["end_time_unix_nano"] + delta_ns,
                "content": json.dumps(content),
            }
        )
    rows["span_metrics"] = [
        {**m, "trace_id": new, "span_id": hex_of[m["span_id"]]} for m in select("span_metrics", "trace_id = ?", old)
    ]
    assessments = select("assessments", "trace_id = ?", old)
    assessment_ids = {a["assessment_id"]: "a-" + os.urandom(16).hex() for a in assessments}
    rows["assessments"] = [
        {
            **a,
            "assessment_id": assessment_ids[a["assessment_id"]],
            "trace_id": new,
            "span_id": hex_of.get(a["span_id"], a["span_id"]) if a["span_id"] else None,
            "overrides": assessment_ids.get(a["overrides"], a["overrides"]) if a["overrides"] else None,
            "created_timestamp": a["created_timestamp"] + delta_ms,
            "last_updated_timestamp": a["last_updated_timestamp"] + delta_ms,
            "trace_timestamp_ms": None if a["trace_timestamp_ms"] is None else a["trace_timestamp_ms"] + delta_ms,
        }
        for a in assessments
    ]
    rows["entity_associations"] = [
        {
            **e,
            "association_id": os.urandom(16).hex()[:36],
            "source_id": new if e["source_id"] == old else e["source_id"],
            "destination_id": new if e["destination_id"] == old else e["destination_id"],
        }
        for e in select("entity_associations", "source_id = ? OR destination_id = ?", old, old)
    ]
    return new, rows


ORDER = (
    "trace_info",
    "trace_tags",
    "trace_request_metadata",
    "trace_metrics",
    "spans",
    "span_metrics",
    "assessments",
    "entity_associations",
)
example = None
done = 0
while done < need:
    # One transaction per thousand clones, so the servers' own requests are never held up long.
    with db:
        pending = {table: [] for table in ORDER}
        for n in range(done, min(need, done + 1000)):
            template = infos[n % have]
            new, rows = clone(template, n)
            example = example or [template["request_id"], new]
            for table in ORDER:
                pending[table].extend(rows[table])
        for table in ORDER:
            insert(table, pending[table])
    done = min(need, done + 1000)
print(json.dumps({"cloned": need, "total": have + need, "example": example}))
