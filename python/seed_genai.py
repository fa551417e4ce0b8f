# Seeds an MLflow 3 tracking server with GenAI assets through MLflow's own Python API, the way a
# user makes them: traces from @mlflow.trace and nested mlflow.start_span (an exception, events,
# token usage, one trace inside a run), feedback and an expectation, a prompt with text and chat
# versions and aliases, and an evaluation dataset with records.
#
#   python seed_genai.py <tracking_uri> <experiment> <prompt> [--traces N] [--more]
#
# --more adds what an incremental export must bring: one more trace (with feedback), one more
# prompt version, one more dataset record. Prints {"experiment_id", "trace_ids", "run_id"} as JSON.
import json
import os
import sys

# Traces are logged synchronously, so tags and assessments find them at once.
os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import mlflow  # noqa: E402
from mlflow.entities import AssessmentSource, AssessmentSourceType, SpanEvent, SpanType

uri, experiment_name, prompt_name = sys.argv[1], sys.argv[2], sys.argv[3]
count = int(sys.argv[sys.argv.index("--traces") + 1]) if "--traces" in sys.argv else 3
more = "--more" in sys.argv
mlflow.set_tracking_uri(uri)
experiment = mlflow.set_experiment(experiment_name)


@mlflow.trace(span_type=SpanType.TOOL)
def lookup(query: str) -> list[str]:
    return [f"doc about {query}"]


@mlflow.trace(span_type=SpanType.AGENT, name="agent")
def agent(question: str, fail: bool) -> str:
    docs = lookup(question)
    with mlflow.start_span(name="llm", span_type=SpanType.CHAT_MODEL) as span:
        span.set_inputs({"messages": [{"role": "user", "content": question}], "docs": docs})
        span.set_attribute("mlflow.chat.tokenUsage", {"input_tokens": 12, "output_tokens": 7, "total_tokens": 19})
        span.set_attribute("model", "gpt-test")
        span.add_event(SpanEvent(name="first_token", attributes={"latency_ms": 42}))
        answer = f"answer to {question}"
        span.set_outputs({"content": answer})
    try:
        with mlflow.start_span(name="guard", span_type=SpanType.PARSER) as span:
            span.set_inputs({"text": answer})
            if fail:
                raise ValueError("guard rejected the answer")
    except ValueError:
        pass
    return answer


def one_trace(i: int) -> str:
    agent(f"question {i}", fail=i % 2 == 0)
    trace_id = mlflow.get_last_active_trace_id()
    mlflow.set_trace_tag(trace_id, "topic", f"t{i % 2}")
    mlflow.log_feedback(
        trace_id=trace_id,
        name="helpful",
        value=i % 2 == 1,
        rationale="reads well" if i % 2 else "refused",
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="alice@example.com"),
        metadata={"round": str(i)},
    )
    mlflow.log_expectation(
        trace_id=trace_id,
        name="expected_answer",
        value={"text": f"answer to question {i}"},
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="bob@example.com"),
    )
    return trace_id


trace_ids: list[str] = []
run_id = None
if not more:
    with mlflow.start_run(run_name="agent-run") as run:
        run_id = run.info.run_id
        mlflow.log_param("model", "gpt-test")
        trace_ids.append(one_trace(0))
    for i in range(1, count):
        trace_ids.append(one_trace(i))
    mlflow.genai.register_prompt(
        name=prompt_name,
        template="Answer {{question}} briefly.",
        commit_message="first",
        tags={"author": "alice"},
    )
    mlflow.genai.register_prompt(
        name=prompt_name,
        template=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "{{question}}"},
        ],
        commit_message="chat form",
        model_config={"model_name": "gpt-test", "temperature": 0.2, "max_tokens": 100},
    )
    mlflow.genai.register_prompt(
        name=prompt_name,
        template="Answer {{question}} in {{n}} words.",
        commit_message="word limit",
        response_format={"type": "object", "properties": {"answer": {"type": "string"}}},
        tags={"author": "bob"},
    )
    mlflow.genai.set_prompt_alias(prompt_name, alias="production", version=2)
    mlflow.genai.set_prompt_alias(prompt_name, alias="staging", version=3)
    from mlflow.genai.datasets import create_dataset

    dataset = create_dataset(
        name=f"{experiment_name}-eval",
        experiment_id=experiment.experiment_id,
        tags={"purpose": "qa"},
    )
    dataset.merge_records([
        {"inputs": {"question": "q1"}, "expectations": {"answer": "a1"}, "tags": {"kind": "easy"}},
        {"inputs": {"question": "q2"}, "expectations": {"answer": "a2"}},
    ])
else:
    trace_ids.append(one_trace(count + 1))
    mlflow.genai.register_prompt(name=prompt_name, template="Answer {{question}}, v4.", commit_message="v4")
    from mlflow.genai.datasets import search_datasets

    for dataset in search_datasets(experiment_ids=[experiment.experiment_id]):
        dataset.merge_records([{"inputs": {"question": "q3"}, "expectations": {"answer": "a3"}}])

mlflow.flush_trace_async_logging()
print(json.dumps({"experiment_id": experiment.experiment_id, "trace_ids": trace_ids, "run_id": run_id}))
