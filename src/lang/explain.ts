// EXPLAIN: a plan as text. Each step gets a sentence a user reads and the exact arguments the
// executor will pass, so what EXPLAIN shows is what runs.
import type { Plan, PlanStep, RowFilter, SchemaCoordinate } from "./plan.js";

export function formatPlan(plan: Plan): string {
  const lines = [`plan for: ${oneLine(plan.statement)}`];
  plan.steps.forEach((step, i) => {
    lines.push(`  ${i + 1}. ${step.step}: ${describeStep(step)}`);
    if (step.step === "explain") return;
    lines.push(`     ${formatArgs(step.args)}`);
  });
  return lines.join("\n");
}

/** An MLflow server of a plan, or what to do when none is set yet (a plan EXPLAIN shows). */
function server(uri: string | null): string {
  return uri ?? "the MLflow server (not set yet: USE MLFLOW 'http://host:port' or MLFLOW_TRACKING_URI)";
}

/** One sentence saying what a step does; also the start message of its progress. */
export function describeStep(step: PlanStep): string {
  switch (step.step) {
    case "createShare":
      return `create share ${step.args.share}${step.args.ifNotExists ? " unless it exists" : ""}`;
    case "dropShare":
      return `drop share ${step.args.share}${step.args.ifExists ? " if it exists" : ""}`;
    case "addExperimentToShare":
      return `export experiment '${step.args.experiment}'${step.args.traces ? "" : " without its traces"} from ${server(step.args.mlflowUri)} into share ${step.args.share} as schema ${step.args.schema}`;
    case "addPromptToShare":
      return `export prompt '${step.args.prompt}' (every version, aliases) from ${server(step.args.mlflowUri)} into share ${step.args.share} as schema ${step.args.schema}`;
    case "addModelToShare":
      return `export registered model '${step.args.model}' from ${server(step.args.mlflowUri)} into share ${step.args.share} as schema ${step.args.schema}`;
    case "alterShareDetails": {
      const parts = [
        ...(step.args.displayName !== undefined ? ["display name"] : []),
        ...(step.args.comment !== undefined ? ["comment"] : []),
        ...Object.keys(step.args.properties ?? {}).map((k) => `property '${k}'`),
      ];
      return `set the ${parts.join(", ")} recipients see of share ${step.args.share}`;
    }
    case "removeFromShare":
      return `remove schema ${step.args.schema} from share ${step.args.share}`;
    case "refreshShare":
      return `re-export ${step.args.schema ? `schema ${step.args.schema}` : "every export"} of share ${step.args.share} from ${server(step.args.mlflowUri)}, committing only what changed`;
    case "createRecipient":
      return step.args.activationLink
        ? `create recipient ${step.args.recipient}${step.args.oauth ? " with OAuth client credentials" : ""} and print a one-time link to its profile`
        : `create recipient ${step.args.recipient}${step.args.oauth ? " with OAuth client credentials" : ""} and print its profile once`;
    case "alterRecipient": {
      const a = step.args;
      const parts = [
        ...(a.allowedAddresses === null ? ["let it connect from anywhere"] : []),
        ...(a.allowedAddresses ? [`let it connect only from ${a.allowedAddresses.join(", ")}`] : []),
        ...(a.rateLimit === null ? ["lift its rate limit"] : []),
        ...(a.rateLimit
          ? [`limit it to ${a.rateLimit.requests} requests per ${a.rateLimit.perSeconds} s`]
          : []),
      ];
      return `recipient ${a.recipient}: ${parts.join(", ")}`;
    }
    case "dropRecipient":
      return `drop recipient ${step.args.recipient}${step.args.ifExists ? " if it exists" : ""}`;
    case "grant":
      return `let recipient ${step.args.recipient} read share ${step.args.share}`;
    case "revoke":
      return `stop recipient ${step.args.recipient} reading share ${step.args.share}`;
    case "showShares":
      return "list the shares";
    case "showRecipients":
      return "list the recipients";
    case "showGrants":
      return step.args.share
        ? `list the grants on share ${step.args.share}`
        : `list the grants to recipient ${step.args.recipient}`;
    case "showAccess":
      return `list the requests of ${step.args.recipient ? `recipient ${step.args.recipient}` : "every recipient"}${step.args.share ? ` to share ${step.args.share}` : ""}${step.args.since ? ` since ${step.args.since}` : ""} from the audit log`;
    case "showTables":
      return `list the tables of share ${step.args.share}`;
    case "describeShare":
      return `describe share ${step.args.share}`;
    case "describeRecipient":
      return `describe recipient ${step.args.recipient}`;
    case "describeHistory":
      return `list the versions of table ${step.args.share}.${step.args.schema}.${step.args.table}`;
    case "showRemoteShares":
      return `list the shares the profile ${step.args.profile} can read`;
    case "showRemoteTables":
      return `list the tables of share ${step.args.share}${step.args.schema ? `, schema ${step.args.schema}` : ""} through ${step.args.profile}`;
    case "showRemoteModels":
      return `list the OpenSharing models of share ${step.args.share}${step.args.schema ? `, schema ${step.args.schema}` : ""} through ${step.args.profile}`;
    case "importModelAsset": {
      const { source } = step.args;
      const which = step.args.version === null ? "every READY version" : `version ${step.args.version}`;
      return `import ${which} of OpenSharing model ${source.share}.${source.schema}.${source.model} through ${source.profile} into registered model '${step.args.model}' at ${server(step.args.mlflowUri)}${step.args.replace ? ", replacing it" : ""}`;
    }
    case "importExperiment":
      return `import ${coordinate(step.args.source)}${version(step.args.version)} into experiment '${step.args.experiment}' at ${server(step.args.mlflowUri)}${step.args.replace ? ", replacing it" : ""}`;
    case "importPrompt":
      return `import ${coordinate(step.args.source)} into prompt '${step.args.prompt}' at ${server(step.args.mlflowUri)}${step.args.replace ? ", replacing it" : ""}`;
    case "importModel":
      return `import ${coordinate(step.args.source)}${version(step.args.version)} into registered model '${step.args.model}' at ${server(step.args.mlflowUri)}${step.args.replace ? ", replacing it" : ""}`;
    case "selectFromShare": {
      const { source, columns, where, limit } = step.args;
      const filter = where ? ` where ${formatFilter(where)}` : "";
      const at = step.args.version === null ? "" : ` at version ${step.args.version}`;
      return `read ${columns ? columns.join(", ") : "all columns"} of ${coordinate(source)}.${source.table}${at}${filter}, at most ${limit} rows`;
    }
    case "plotSharedMetric":
      return `draw metric '${step.args.metric}' of every run in ${coordinate(step.args.source)} by ${step.args.x}, one line per run`;
    case "plotExperimentMetric":
      return `draw metric '${step.args.metric}' of every run of experiment '${step.args.experiment}' at ${server(step.args.mlflowUri)} by ${step.args.x}, one line per run`;
    case "showSharedTrace":
      return `show trace '${step.args.traceId}' of ${coordinate(step.args.source)} as its span tree`;
    case "showExperimentTrace":
      return `show trace '${step.args.traceId}' of experiment '${step.args.experiment}' at ${server(step.args.mlflowUri)} as its span tree`;
    case "useMlflow":
      return `use the MLflow server at ${step.args.uri} from now on`;
    case "useProfile":
      return `use the profile ${step.args.path} from now on`;
    case "explain":
      return `show this plan without running it:\n${indent(formatPlan(step.args.plan), 5)}`;
    case "help":
      return step.args.topic ? `show help on ${step.args.topic}` : "show the statement reference";
  }
}

export function formatFilter(filter: RowFilter): string {
  switch (filter.op) {
    case "and":
    case "or":
      return filter.children
        .map((child) =>
          child.op === "and" || child.op === "or" ? `(${formatFilter(child)})` : formatFilter(child),
        )
        .join(` ${filter.op.toUpperCase()} `);
    case "not":
      return `NOT (${formatFilter(filter.child)})`;
    case "compare":
      return `${filter.column} ${filter.operator} ${JSON.stringify(filter.value)}`;
    case "isNull":
      return `${filter.column} IS NULL`;
    case "in":
      return `${filter.column} IN (${filter.values.map((value) => JSON.stringify(value)).join(", ")})`;
    case "like":
      return `${filter.column} LIKE ${JSON.stringify(filter.pattern)}`;
  }
}

function coordinate(source: SchemaCoordinate): string {
  return `${source.profile}#${source.share}.${source.schema}`;
}

function version(value: number | null): string {
  return value === null ? " (latest version)" : ` (version ${value})`;
}

function formatArgs(args: object): string {
  return Object.entries(args)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(" ");
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function indent(text: string, width: number): string {
  const pad = " ".repeat(width);
  return text
    .split("\n")
    .map((line) => pad + line)
    .join("\n");
}
