# The benchmark peer for moving traces (bench/traces.ts): mlflow-export-import's newest release
# (1.2.0) has no trace export, so this is the straightforward copy a user would write on MLflow's
# Python client: read every trace of the source experiment (search_traces, get_trace), replay its
# spans into the destination with start_trace/start_span/end_span (MLflow gives them new ids),
# and log each assessment again (log_feedback / log_expectation).
#
#   python bench_copy_traces.py <source_uri> <experiment> <destination_uri> <destination_experiment>
import os
import sys

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

source_uri, experiment, destination_uri, destination_experiment = sys.argv[1:5]
source = MlflowClient(source_uri)
destination = MlflowClient(destination_uri)
source_experiment = source.get_experiment_by_name(experiment)
mlflow.set_tracking_uri(destination_uri)
target = mlflow.set_experiment(destination_experiment)

copied = 0
token = None
while True:
    page = source.search_traces(locations=[source_experiment.experiment_id], max_results=100, page_token=token)
    for info in page:
        trace = source.get_trace(info.info.trace_id)
        spans = sorted(trace.data.spans, key=lambda s: s.start_time_ns)
        root = next(s for s in spans if s.parent_id is None)
        new = {}
        root_span = destination.start_trace(
            name=root.name,
            span_type=root.span_type,
            inputs=root.inputs,
            attributes=root.attributes,
            tags=trace.info.tags,
            experiment_id=target.experiment_id,
            start_time_ns=root.start_time_ns,
        )
        new[root.span_id] = root_span
        for span in spans:
            if span is root:
                continue
            parent = new[span.parent_id]
            new[span.span_id] = destination.start_span(
                name=span.name,
                trace_id=root_span.trace_id,
                parent_id=parent.span_id,
                span_type=span.span_type,
                inputs=span.inputs,
                attributes=span.attributes,
                start_time_ns=span.start_time_ns,
            )
        for span in reversed(spans):
            if span is root:
                continue
            destination.end_span(
                trace_id=root_span.trace_id,
                span_id=new[span.span_id].span_id,
                outputs=span.outputs,
                status=span.status.status_code,
                end_time_ns=span.end_time_ns,
            )
        destination.end_trace(root_span.trace_id, outputs=root.outputs, end_time_ns=root.end_time_ns)
        for assessment in trace.info.assessments:
            if assessment.feedback is not None:
                mlflow.log_feedback(
                    trace_id=root_span.trace_id,
                    name=assessment.name,
                    value=assessment.feedback.value,
                    source=assessment.source,
                    rationale=assessment.rationale,
                    metadata=assessment.metadata,
                )
            elif assessment.expectation is not None:
                mlflow.log_expectation(
                    trace_id=root_span.trace_id,
                    name=assessment.name,
                    value=assessment.expectation.value,
                    source=assessment.source,
                    metadata=assessment.metadata,
                )
        copied += 1
    token = page.token
    if not token:
        break
print(copied)
