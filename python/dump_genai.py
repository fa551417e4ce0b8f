# Dumps the GenAI assets of an MLflow server through MLflow's own Python client, for tests that
# compare a provider with a recipient: the experiment's traces (search_traces, then get_trace for
# each: info, assessments, every span), a prompt's versions (load_prompt) and aliases, and the
# evaluation datasets linked to the experiment with their records.
#
#   python dump_genai.py <tracking_uri> <experiment> [<prompt>]
import json
import sys

import mlflow
from mlflow import MlflowClient

uri, experiment_name = sys.argv[1], sys.argv[2]
prompt_name = sys.argv[3] if len(sys.argv) > 3 else None
mlflow.set_tracking_uri(uri)
client = MlflowClient(uri)
experiment = client.get_experiment_by_name(experiment_name)
out = {"traces": [], "prompt": None, "datasets": [], "runs": {}}
if experiment is not None:
    for run in client.search_runs([experiment.experiment_id]):
        out["runs"][run.info.run_id] = run.info.run_name
    infos = mlflow.search_traces(locations=[experiment.experiment_id], return_type="list")
    for info in sorted(infos, key=lambda t: t.info.trace_id):
        trace = mlflow.get_trace(info.info.trace_id)
        out["traces"].append(trace.to_dict())
    from mlflow.genai.datasets import search_datasets

    for dataset in search_datasets(experiment_ids=[experiment.experiment_id]):
        records = dataset.to_df().to_dict(orient="records")
        out["datasets"].append({
            "name": dataset.name,
            "tags": dataset.tags,
            "records": [
                {k: r.get(k) for k in ("inputs", "expectations", "outputs", "tags", "source", "source_type")}
                for r in records
            ],
        })
prompt = None
if prompt_name is not None:
    try:
        prompt = client.get_prompt(prompt_name)
    except mlflow.exceptions.MlflowException:
        prompt = None
if prompt is not None:
    versions = []
    aliases = {}
    numbers = sorted(int(v.version) for v in client.search_prompt_versions(prompt_name))
    for number in numbers:
        v = client.get_prompt_version(prompt_name, number)
        for alias in v.aliases:
            aliases[alias] = int(v.version)
        p = mlflow.genai.load_prompt(f"prompts:/{prompt_name}/{number}")
        versions.append({
            "version": int(p.version),
            "template": p.template,
            "is_text": p.is_text_prompt,
            "response_format": p.response_format,
            "model_config": p.model_config,
            "commit_message": p.commit_message,
            "tags": p.tags,
        })
    out["prompt"] = {"description": prompt.description, "tags": prompt.tags, "versions": versions, "aliases": aliases}
print(json.dumps(out, default=str, sort_keys=True))
