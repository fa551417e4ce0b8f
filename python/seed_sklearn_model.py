"""Logs and registers a real scikit-learn model through MLflow's own Python API, so that a real
pyfunc model (MLmodel, conda/python env files, the pickled estimator that MLflow itself writes)
exists on the provider's server to be shared. arcuate never unpickles it: the recipient's MLflow
loads it, as it would any model it logged itself.

Usage: python seed_sklearn_model.py TRACKING_URI EXPERIMENT_NAME MODEL_NAME
Prints one JSON line: run_id, model_id, version, and the model's predictions on a fixed input.
"""

import json
import sys
import warnings

warnings.filterwarnings("ignore")

import mlflow  # noqa: E402
import numpy as np  # noqa: E402
from mlflow.models import infer_signature  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402


def fixed_input():
    rng = np.random.default_rng(7)
    return rng.normal(size=(20, 4))


def main(tracking_uri: str, experiment_name: str, model_name: str) -> None:
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment_name)
    rng = np.random.default_rng(42)
    x = rng.normal(size=(200, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] > 0).astype(int)
    with mlflow.start_run(run_name="sklearn-logreg") as run:
        model = LogisticRegression(C=0.5, max_iter=200).fit(x, y)
        mlflow.log_params({"C": 0.5, "max_iter": 200})
        for step in range(5):
            mlflow.log_metric("train_accuracy", float(model.score(x, y)) - 0.01 * (4 - step), step=step)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(x, model.predict(x)),
            input_example=x[:2],
            registered_model_name=model_name,
        )
    client = mlflow.MlflowClient()
    versions = client.search_model_versions(f"name='{model_name}'")
    version = max(int(v.version) for v in versions)
    client.set_registered_model_alias(model_name, "production", str(version))
    predictions = model.predict(fixed_input()).tolist()
    print(
        json.dumps(
            {
                "run_id": run.info.run_id,
                "model_id": getattr(info, "model_id", None),
                "version": str(version),
                "predictions": predictions,
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
