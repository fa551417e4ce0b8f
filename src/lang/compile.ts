// AST → plan. Pure: binds :parameters, checks names and coordinates, fills in the defaults a
// statement leaves out (MLflow server, profile, working folder, export names), and returns data.
// A USE statement changes the defaults of the statements after it in the same script.
import type {
  Alteration,
  RecipientLimitClause,
  Script,
  ShareObject,
  Statement,
  StatementOf,
  Value,
} from "../../grammar/ast.js";
import { ConfigurationError, messageOf } from "../errors.js";
import { normaliseAddressRange, RATE_UNITS } from "../sharing/catalog/recipient-limits.js";
import { nameProblem } from "../sharing/protocol.js";
import { sinceTime } from "../sharing/server/audit-table.js";
import {
  CoordinateProblem,
  parseSchemaCoordinate,
  parseShareCoordinate,
  parseTableCoordinate,
} from "./coordinates.js";
import { compileFilter } from "./filter.js";
import {
  type AlterRecipientArgs,
  type AlterShareDetailsArgs,
  type ChartAxis,
  DEFAULT_PREVIEW_ROWS,
  type Plan,
  type PlanStep,
  type RuntimeStep,
} from "./plan.js";
import { statementTitle } from "./titles.js";
import { type BindContext, bindCount, bindString, statementError } from "./values.js";

export interface CompileContext {
  /** arcuate's working folder: the provider's catalog and exported tables live under it. */
  workDir: string;
  /** The MLflow tracking server statements use, or null when none is set yet. */
  mlflowUri: string | null;
  /** The profile file coordinates without `profile#` use, or null. */
  profile: string | null;
  variables?: ((name: string) => unknown) | undefined;
}

/** The plans of every statement of a script, in order. */
export function compileScript(script: Script, context: CompileContext): Plan[] {
  let current = context;
  return script.statements.map((statement) => {
    const plan = compileStatement(statement, current, script.text);
    current = afterStatement(plan, current);
    return plan;
  });
}

/** The defaults in effect after a plan ran: USE MLFLOW and USE PROFILE change them. */
export function afterStatement(plan: Plan, context: CompileContext): CompileContext {
  let next = context;
  for (const step of plan.steps) {
    if (step.step === "useMlflow") next = { ...next, mlflowUri: step.args.uri };
    if (step.step === "useProfile") next = { ...next, profile: step.args.path };
  }
  return next;
}

export function compileStatement(statement: Statement, context: CompileContext, text: string): Plan {
  const compiler = new StatementCompiler(context, { text, variables: context.variables }, false);
  return { statement: statement.source.text, steps: compiler.steps(statement) };
}

class StatementCompiler {
  constructor(
    private readonly context: CompileContext,
    private readonly bind: BindContext,
    /** Compiling the statement of an EXPLAIN: settings not given yet are shown, not required. */
    private readonly explaining: boolean,
  ) {}

  steps(s: Statement): PlanStep[] {
    const workDir = this.context.workDir;
    switch (s.kind) {
      case "createShare": {
        const share = this.shareName(s.share);
        const create: RuntimeStep = {
          step: "createShare",
          args: {
            share,
            comment: this.optionalString(s.comment, "a comment"),
            ifNotExists: s.ifNotExists,
            workDir,
          },
        };
        return [create, ...s.objects.map((object) => this.addObject(share, object, s))];
      }
      case "alterShare": {
        const share = this.shareName(s.share);
        const steps: RuntimeStep[] = [];
        let details: AlterShareDetailsArgs | undefined;
        for (const alteration of s.alterations) {
          if (alteration.kind === "add") steps.push(this.addObject(share, alteration.object, s));
          else if (alteration.kind === "remove")
            steps.push({
              step: "removeFromShare",
              args: { share, schema: this.schemaName(alteration.alias), workDir },
            });
          else {
            // Every SET of one statement is one catalog change, made in one step.
            if (!details) {
              details = { share, workDir };
              steps.push({ step: "alterShareDetails", args: details });
            }
            this.shareDetails(details, alteration);
          }
        }
        return steps;
      }
      case "refreshShare":
        return [
          {
            step: "refreshShare",
            args: {
              share: this.shareName(s.share),
              schema: s.alias ? this.schemaName(s.alias) : null,
              mlflowUri: this.mlflowUri(s),
              workDir,
            },
          },
        ];
      case "dropShare":
        return [
          { step: "dropShare", args: { share: this.shareName(s.share), ifExists: s.ifExists, workDir } },
        ];
      case "createRecipient":
        return [
          {
            step: "createRecipient",
            args: {
              recipient: this.recipientName(s.recipient),
              comment: this.optionalString(s.comment, "a comment"),
              ifNotExists: s.ifNotExists,
              oauth: s.oauth,
              ...(s.activationLink ? { activationLink: true as const } : {}),
              workDir,
            },
          },
        ];
      case "alterRecipient":
        return [{ step: "alterRecipient", args: this.recipientLimits(s.recipient, s.limits) }];
      case "dropRecipient":
        return [
          {
            step: "dropRecipient",
            args: { recipient: this.recipientName(s.recipient), ifExists: s.ifExists, workDir },
          },
        ];
      case "grant":
      case "revoke":
        return [
          {
            step: s.kind,
            args: { share: this.shareName(s.share), recipient: this.recipientName(s.recipient), workDir },
          },
        ];
      case "showShares":
        return [{ step: "showShares", args: { workDir } }];
      case "showRecipients":
        return [{ step: "showRecipients", args: { workDir } }];
      case "showGrants":
        return [
          {
            step: "showGrants",
            args: {
              share: s.share ? this.shareName(s.share) : null,
              recipient: s.recipient ? this.recipientName(s.recipient) : null,
              workDir,
            },
          },
        ];
      case "showAccess": {
        const since = s.since ? bindString(s.since, this.bind, "a time or a duration") : null;
        if (since !== null && sinceTime(since, 0) === undefined)
          throw statementError(
            this.bind,
            s.since!.span,
            `SINCE takes an ISO 8601 date or time ('2026-12-01T09:00Z') or a duration back from now ('90m', '24h', '7d'), not '${since}'`,
          );
        return [
          {
            step: "showAccess",
            args: {
              share: s.share ? this.shareName(s.share) : null,
              recipient: s.recipient ? this.recipientName(s.recipient) : null,
              since,
              workDir,
            },
          },
        ];
      }
      case "showTables":
        return [{ step: "showTables", args: { share: this.shareName(s.share), workDir } }];
      case "describeShare":
        return [{ step: "describeShare", args: { share: this.shareName(s.share), workDir } }];
      case "describeRecipient":
        return [{ step: "describeRecipient", args: { recipient: this.recipientName(s.recipient), workDir } }];
      case "describeHistory":
        return [
          {
            step: "describeHistory",
            args: {
              share: this.shareName(s.share),
              schema: this.schemaName(s.alias),
              table: this.checkedName(s.table, "table", "a table name"),
              workDir,
            },
          },
        ];
      case "showRemoteShares":
        return [
          {
            step: "showRemoteShares",
            args: { profile: bindString(s.profile, this.bind, "a profile file path") },
          },
        ];
      case "showRemoteTables": {
        const coordinate = this.coordinate(s.coordinate, parseShareCoordinate);
        return [{ step: "showRemoteTables", args: coordinate }];
      }
      case "showRemoteModels":
        return [{ step: "showRemoteModels", args: this.coordinate(s.coordinate, parseShareCoordinate) }];
      case "showTrace":
        return [this.traceStep(s)];
      case "importExperiment":
      case "importModel":
      case "importPrompt":
        return [this.importStep(s)];
      case "select":
        return [
          {
            step: "selectFromShare",
            args: {
              source: this.coordinate(s.from, parseTableCoordinate),
              columns: s.columns,
              version: s.version ? bindCount(s.version, this.bind, "VERSION AS OF") : null,
              where: s.where ? compileFilter(s.where, this.bind) : null,
              limit: s.limit ? bindCount(s.limit, this.bind, "LIMIT") : DEFAULT_PREVIEW_ROWS,
            },
          },
        ];
      case "plotMetric":
        return [this.plotStep(s)];
      case "useMlflow":
        return [{ step: "useMlflow", args: { uri: this.mlflowUriValue(s.uri) } }];
      case "useProfile":
        return [{ step: "useProfile", args: { path: bindString(s.path, this.bind, "a profile file path") } }];
      case "explain":
        return [
          {
            step: "explain",
            args: {
              plan: {
                statement: s.statement.source.text,
                steps: new StatementCompiler(this.context, this.bind, true).steps(s.statement),
              },
            },
          },
        ];
      case "help":
        return [{ step: "help", args: { topic: s.topic } }];
    }
  }

  private addObject(share: string, object: ShareObject, s: Statement): RuntimeStep {
    const what = { experiment: "an experiment name", model: "a model name", prompt: "a prompt name" }[
      object.kind
    ];
    const name = bindString(object.name, this.bind, what);
    const schema = object.alias ? this.schemaName(object.alias) : this.defaultSchemaName(name, object);
    const mlflowUri = this.mlflowUri(s);
    const workDir = this.context.workDir;
    if (object.without) {
      const left = bindString(object.without, this.bind, "traces").toLowerCase();
      if (left !== "traces")
        throw statementError(
          this.bind,
          object.without.span,
          `an experiment can be shared WITHOUT traces, not '${left}'`,
        );
    }
    if (object.kind === "experiment") {
      const traces = object.without === undefined;
      return {
        step: "addExperimentToShare",
        args: { share, experiment: name, schema, mlflowUri, traces, workDir },
      };
    }
    return object.kind === "prompt"
      ? { step: "addPromptToShare", args: { share, prompt: name, schema, mlflowUri, workDir } }
      : { step: "addModelToShare", args: { share, model: name, schema, mlflowUri, workDir } };
  }

  private importStep(s: StatementOf<"importExperiment" | "importModel" | "importPrompt">): RuntimeStep {
    if (s.kind === "importPrompt") {
      if (s.version)
        throw statementError(
          this.bind,
          s.version.span,
          "a prompt is imported whole: every version, no VERSION AS OF",
        );
      return {
        step: "importPrompt",
        args: {
          prompt: bindString(s.name, this.bind, "a prompt name"),
          replace: s.orReplace,
          source: this.coordinate(s.coordinate, parseSchemaCoordinate),
          mlflowUri: this.mlflowUri(s),
        },
      };
    }
    const isExperiment = s.kind === "importExperiment";
    const name = bindString(s.name, this.bind, isExperiment ? "an experiment name" : "a model name");
    // 'profile#share.schema.model' names an OpenSharing model asset rather than an export's schema.
    if (!isExperiment && isModelCoordinate(bindString(s.coordinate, this.bind, "a share coordinate"))) {
      const { table, ...at } = this.coordinate(s.coordinate, parseTableCoordinate);
      return {
        step: "importModelAsset",
        args: {
          model: name,
          replace: s.orReplace,
          source: { ...at, model: table },
          version: s.version ? bindCount(s.version, this.bind, "VERSION AS OF") : null,
          mlflowUri: this.mlflowUri(s),
        },
      };
    }
    const common = {
      replace: s.orReplace,
      source: this.coordinate(s.coordinate, parseSchemaCoordinate),
      version: s.version ? bindCount(s.version, this.bind, "VERSION AS OF") : null,
      mlflowUri: this.mlflowUri(s),
    };
    return isExperiment
      ? { step: "importExperiment", args: { experiment: name, ...common } }
      : { step: "importModel", args: { model: name, ...common } };
  }

  private plotStep(s: StatementOf<"plotMetric">): RuntimeStep {
    const metric = bindString(s.metric, this.bind, "a metric name");
    let x: ChartAxis = "step";
    if (s.axis) {
      const axis = bindString(s.axis, this.bind, "step or time").toLowerCase();
      if (axis !== "step" && axis !== "time")
        throw statementError(this.bind, s.axis.span, `PLOT draws BY step or BY time, not '${axis}'`);
      x = axis;
    }
    if (s.from.kind === "experiment") {
      const experiment = bindString(s.from.name, this.bind, "an experiment name");
      return { step: "plotExperimentMetric", args: { experiment, metric, x, mlflowUri: this.mlflowUri(s) } };
    }
    const source = this.coordinate(s.from.coordinate, parseSchemaCoordinate);
    return { step: "plotSharedMetric", args: { source, metric, x } };
  }

  private traceStep(s: StatementOf<"showTrace">): RuntimeStep {
    const traceId = bindString(s.traceId, this.bind, "a trace id");
    if (traceId.trim() === "") throw statementError(this.bind, s.traceId.span, "a trace id cannot be empty");
    if (s.from.kind === "experiment") {
      const experiment = bindString(s.from.name, this.bind, "an experiment name");
      return { step: "showExperimentTrace", args: { traceId, experiment, mlflowUri: this.mlflowUri(s) } };
    }
    const source = this.coordinate(s.from.coordinate, parseSchemaCoordinate);
    return { step: "showSharedTrace", args: { traceId, source } };
  }

  /**
   * The schema an object is exported to when the statement gives no `AS`: the last part of an
   * experiment's path ('/Users/me/churn' → churn), with the characters schema names may not hold
   * (space, '/', '.', controls) replaced by '_'.
   */
  private defaultSchemaName(name: string, object: ShareObject): string {
    const last =
      name
        .split("/")
        .filter((part) => part.length > 0)
        .pop() ?? "";
    // biome-ignore lint/suspicious/noControlCharactersInRegex: controls are exactly what is replaced
    const schema = last.replace(/[\s/.\u0000-\u001f\u007f]/g, "_");
    if (schema === "")
      throw statementError(
        this.bind,
        object.span,
        `cannot derive a schema name from '${name}': add AS <name>`,
      );
    return schema;
  }

  private coordinate<T>(value: Value, parse: (coordinate: string, profile: string | null) => T): T {
    const text = bindString(value, this.bind, "a share coordinate 'profile#share.schema'");
    try {
      return parse(text, this.context.profile);
    } catch (error) {
      if (error instanceof CoordinateProblem) throw statementError(this.bind, value.span, error.message);
      throw error;
    }
  }

  /**
   * The MLflow server a statement uses. Missing, it is a setting to give, not a syntax error; in
   * an EXPLAIN the plan shows it as not set (null), since a plan does no I/O.
   */
  private mlflowUri(s: Statement): string | null {
    if (this.context.mlflowUri) return this.context.mlflowUri;
    if (this.explaining) return null;
    throw new ConfigurationError(
      `${statementTitle(s)} needs an MLflow server: run USE MLFLOW 'http://host:port' first, or set MLFLOW_TRACKING_URI (arcuate run: --mlflow <uri>)`,
    );
  }

  private mlflowUriValue(value: Value): string {
    const uri = bindString(value, this.bind, "an MLflow tracking URI");
    // arcuate talks to MLflow over REST only, so a file store ('./mlruns') is no use here.
    if (!/^https?:\/\/[^/]/i.test(uri)) {
      throw statementError(
        this.bind,
        value.span,
        `'${uri}' is not an MLflow tracking URI: write 'http://host:port'`,
      );
    }
    return uri.replace(/\/+$/, "");
  }

  private shareDetails(
    details: AlterShareDetailsArgs,
    alteration: Extract<Alteration, { kind: "setDisplayName" | "setComment" | "setProperties" }>,
  ): void {
    if (alteration.kind === "setProperties") {
      details.properties ??= {};
      for (const p of alteration.properties) {
        details.properties[bindString(p.key, this.bind, "a property key")] =
          p.value === null ? null : bindString(p.value, this.bind, "a property value");
      }
    } else if (alteration.kind === "setDisplayName") {
      const text = bindString(alteration.value, this.bind, "a display name");
      details.displayName = text === "" ? null : text;
    } else {
      details.comment = bindString(alteration.value, this.bind, "a comment");
    }
  }

  /** Every clause of one ALTER RECIPIENT is one catalog change; a later clause wins over an earlier one. */
  private recipientLimits(recipient: Value, clauses: RecipientLimitClause[]): AlterRecipientArgs {
    const args: AlterRecipientArgs = {
      recipient: this.recipientName(recipient),
      workDir: this.context.workDir,
    };
    for (const clause of clauses) {
      if (clause.kind === "unsetAllowedAddresses") args.allowedAddresses = null;
      else if (clause.kind === "unsetRateLimit") args.rateLimit = null;
      else if (clause.kind === "setAllowedAddresses")
        args.allowedAddresses = clause.ranges.map((range) => {
          const text = bindString(range, this.bind, "an address range");
          try {
            return normaliseAddressRange(text);
          } catch (error) {
            throw statementError(this.bind, range.span, messageOf(error).replace(/^catalog: /, ""));
          }
        });
      else if (clause.kind === "setRateLimit") {
        const unit = bindString(clause.unit, this.bind, "second, minute or hour").toLowerCase();
        const perSeconds = RATE_UNITS[unit as keyof typeof RATE_UNITS];
        if (perSeconds === undefined)
          throw statementError(
            this.bind,
            clause.unit.span,
            `a rate limit is PER second, minute or hour, not '${unit}'`,
          );
        const requests = bindCount(clause.requests, this.bind, "a number of requests");
        if (requests < 1)
          throw statementError(this.bind, clause.requests.span, "a rate limit allows at least 1 request");
        args.rateLimit = { requests, perSeconds };
      }
    }
    return args;
  }

  private optionalString(value: Value | null, what: string): string | null {
    return value ? bindString(value, this.bind, what) : null;
  }

  private shareName(value: Value): string {
    return this.checkedName(value, "share", "a share name");
  }

  private schemaName(value: Value): string {
    return this.checkedName(value, "schema", "a schema name");
  }

  private recipientName(value: Value): string {
    const name = bindString(value, this.bind, "a recipient name");
    const problem = nameProblem("share", name)?.replace(/^share/, "recipient");
    if (problem) throw statementError(this.bind, value.span, problem);
    return name;
  }

  private checkedName(value: Value, kind: "share" | "schema" | "table", what: string): string {
    const name = bindString(value, this.bind, what);
    const problem = nameProblem(kind, name);
    if (problem) throw statementError(this.bind, value.span, problem);
    return name;
  }
}

/** Whether a coordinate has three names after its profile: share, schema and model. */
function isModelCoordinate(text: string): boolean {
  return text.slice(text.lastIndexOf("#") + 1).split(".").length === 3;
}
