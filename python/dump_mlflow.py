"""Dumps what MLflow's own Python client sees of an experiment (and optionally a registered
model) as canonical JSON, so tests can compare what arcuate wrote with what MLflow reports.

Usage: python dump_mlflow.py TRACKING_URI EXPERIMENT_NAME [MODEL_NAME]
"""

import hashlib
import json
import math
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402


def number(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return value


def artifacts(client, run_id, path=None, into=None):
    into = {} if into is None else into
    for entry in client.list_artifacts(run_id, path):
        if entry.is_dir:
            artifacts(client, run_id, entry.path, into)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                local = client.download_artifacts(run_id, entry.path, tmp)
                with open(local, "rb") as handle:
                    into[entry.path] = hashlib.sha256(handle.read()).hexdigest()
    return into


def dump_run(client, run):
    metrics = {}
    for key in sorted(run.data.metrics):
        history = client.get_metric_history(run.info.run_id, key)
        metrics[key] = sorted(
            [[m.step, m.timestamp, number(m.value)] for m in history], key=lambda p: (p[0], p[1], str(p[2]))
        )
    return {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name,
        "status": run.info.status,
        "start_time": run.info.start_time,
        "end_time": run.info.end_time,
        "lifecycle_stage": run.info.lifecycle_stage,
        "user_id": run.info.user_id,
        "params": dict(sorted(run.data.params.items())),
        "tags": dict(sorted(run.data.tags.items())),
        "metrics": metrics,
        "inputs": sorted(
            [
                {
                    "name": d.dataset.name,
                    "digest": d.dataset.digest,
                    "source_type": d.dataset.source_type,
                    "source": d.dataset.source,
                    "schema": d.dataset.schema,
                    "profile": d.dataset.profile,
                    "tags": {t.key: t.value for t in d.tags},
                }
                for d in (run.inputs.dataset_inputs if run.inputs else [])
            ],
            key=lambda d: json.dumps(d, sort_keys=True),
        ),
        "artifacts": artifacts(client, run.info.run_id),
    }


def main(uri, experiment_name, model_name=None):
    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    experiment = client.get_experiment_by_name(experiment_name)
    out = {"experiment": None, "runs": [], "model": None}
    if experiment is not None:
        out["experiment"] = {"name": experiment.name, "tags": dict(sorted(experiment.tags.items()))}
        runs = client.search_runs([experiment.experiment_id], max_results=50000)
        out["runs"] = sorted([dump_run(client, r) for r in runs], key=lambda r: (r["start_time"], r["run_name"]))
    if model_name:
        model = client.get_registered_model(model_name)
        versions = client.search_model_versions(f"name='{model_name}'")
        out["model"] = {
            "name": model.name,
            "description": model.description,
            "tags": dict(sorted(model.tags.items())),
            "aliases": dict(sorted(model.aliases.items())),
            "versions": [
                {
                    "version": v.version,
                    "stage": v.current_stage,
                    "description": v.description,
                    "tags": dict(sorted(v.tags.items())),
                    "aliases": sorted(v.aliases),
                    "run_id": v.run_id,
                    "status": v.status,
                    "source": v.source,
                }
                for v in sorted(versions, key=lambda v: int(v.version))
            ],
        }
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:])
