// HELP: the statement reference, as data. `HELP` lists every statement; `HELP <topic>` shows the
// entries whose topic starts with the words given (HELP CREATE shows every CREATE form).
// A test parses every example here, so the reference cannot drift from the grammar.
import { nearestWord } from "../../grammar/suggest.js";

export interface HelpEntry {
  topic: string;
  syntax: string[];
  summary: string;
  examples: string[];
}

export const HELP_ENTRIES: readonly HelpEntry[] = [
  {
    topic: "CREATE SHARE",
    syntax: [
      "CREATE SHARE [IF NOT EXISTS] share [COMMENT 'text']",
      "  [WITH EXPERIMENT 'name' [AS schema] | MODEL 'name' [AS schema] | TABLE schema FROM EXPERIMENT 'name', …]",
    ],
    summary:
      "Creates a share and exports experiments or registered models into it, one schema each. Without AS, the schema is named after the experiment (its last path part) or model.",
    examples: [
      "CREATE SHARE churn_share COMMENT 'churn models for partners'",
      "CREATE SHARE churn_share WITH EXPERIMENT '/Users/me/churn' AS churn, MODEL 'churn-classifier'",
      "CREATE SHARE churn_share WITH TABLE churn FROM EXPERIMENT '/Users/me/churn'",
    ],
  },
  {
    topic: "ALTER SHARE",
    syntax: [
      "ALTER SHARE share ADD EXPERIMENT 'name' [AS schema] | ADD MODEL 'name' [AS schema] | REMOVE schema, …",
      "ALTER SHARE share SET DISPLAYNAME 'text' | SET COMMENT 'text' | SET PROPERTIES ('key' = 'value' | NULL, …)",
    ],
    summary:
      "Adds exports to a share, or removes one (the exported tables stay in the working folder). SET changes what recipients see of the share besides its name: its display name, comment and properties (NULL removes a property, '' clears the display name).",
    examples: [
      "ALTER SHARE churn_share ADD MODEL 'churn-classifier' AS classifier",
      "ALTER SHARE churn_share REMOVE churn",
      "ALTER SHARE churn_share SET DISPLAYNAME 'Churn models', SET PROPERTIES ('team' = 'growth')",
    ],
  },
  {
    topic: "REFRESH SHARE",
    syntax: ["REFRESH SHARE share [schema]"],
    summary: "Exports again what changed in MLflow since the last export, as a new version of each table.",
    examples: ["REFRESH SHARE churn_share", "REFRESH SHARE churn_share churn"],
  },
  {
    topic: "DROP SHARE",
    syntax: ["DROP SHARE [IF EXISTS] share"],
    summary: "Drops a share and its grants.",
    examples: ["DROP SHARE IF EXISTS churn_share"],
  },
  {
    topic: "CREATE RECIPIENT",
    syntax: ["CREATE RECIPIENT [IF NOT EXISTS] recipient [USING OAUTH] [COMMENT 'text']"],
    summary:
      "Creates a recipient with a bearer token (or, USING OAUTH, a client id and secret that get " +
      "short-lived access tokens) and prints its profile file, once: send it to the recipient.",
    examples: ["CREATE RECIPIENT acme COMMENT 'Acme data science'", "CREATE RECIPIENT globex USING OAUTH"],
  },
  {
    topic: "DROP RECIPIENT",
    syntax: ["DROP RECIPIENT [IF EXISTS] recipient"],
    summary: "Drops a recipient; its token stops working.",
    examples: ["DROP RECIPIENT IF EXISTS acme"],
  },
  {
    topic: "GRANT",
    syntax: ["GRANT SELECT ON SHARE share TO RECIPIENT recipient"],
    summary: "Lets a recipient read a share.",
    examples: ["GRANT SELECT ON SHARE churn_share TO RECIPIENT acme"],
  },
  {
    topic: "REVOKE",
    syntax: ["REVOKE SELECT ON SHARE share FROM RECIPIENT recipient"],
    summary: "Stops a recipient reading a share.",
    examples: ["REVOKE SELECT ON SHARE churn_share FROM RECIPIENT acme"],
  },
  {
    topic: "SHOW",
    syntax: [
      "SHOW SHARES | RECIPIENTS | GRANTS ON SHARE share | GRANTS TO RECIPIENT recipient | TABLES IN SHARE share",
      "SHOW SHARES IN 'profile'   SHOW TABLES IN 'profile#share[.schema]'",
      "SHOW ACCESS [ON SHARE share] [FOR RECIPIENT recipient] [SINCE 'time or 24h']",
    ],
    summary:
      "Lists the provider's shares, recipients, grants and tables, and the audit log of recipients' requests (ACCESS); with a profile, what a recipient can see.",
    examples: [
      "SHOW SHARES",
      "SHOW GRANTS ON SHARE churn_share",
      "SHOW TABLES IN SHARE churn_share",
      "SHOW SHARES IN 'acme.share'",
      "SHOW TABLES IN 'acme.share#churn_share'",
      "SHOW ACCESS FOR RECIPIENT acme SINCE '24h'",
    ],
  },
  {
    topic: "SHOW TRACE",
    syntax: [
      "SHOW TRACE 'trace id' FROM '[profile#]share.schema'",
      "SHOW TRACE 'trace id' FROM EXPERIMENT 'name'",
    ],
    summary:
      "Shows a trace as its span tree: every span under its parent, with its type, duration and status (an error's message beside it). From a shared experiment's spans table (before importing it) or from an experiment in MLflow.",
    examples: [
      "SHOW TRACE 'tr-7f3a…' FROM 'acme.share#agent_share.agent'",
      "SHOW TRACE 'tr-7f3a…' FROM EXPERIMENT '/Shared/agent-from-partner'",
    ],
  },
  {
    topic: "DESCRIBE",
    syntax: ["DESCRIBE SHARE share | DESCRIBE RECIPIENT recipient | DESCRIBE HISTORY share.schema.table"],
    summary: "Shows a share's exports, a recipient's details, or the versions of an exported table.",
    examples: ["DESCRIBE SHARE churn_share", "DESCRIBE HISTORY churn_share.churn.runs"],
  },
  {
    topic: "CREATE EXPERIMENT",
    syntax: ["CREATE [OR REPLACE] EXPERIMENT 'name' USING SHARE '[profile#]share.schema' [VERSION AS OF n]"],
    summary:
      "Imports a shared experiment into the current MLflow server, runs, metrics, artifacts and all. Importing again is idempotent; OR REPLACE starts afresh.",
    examples: [
      "CREATE EXPERIMENT '/Shared/churn-from-partner' USING SHARE 'acme.share#churn_share.churn'",
      "CREATE OR REPLACE EXPERIMENT 'churn' USING SHARE 'acme.share#churn_share.churn' VERSION AS OF 2",
    ],
  },
  {
    topic: "CREATE MODEL",
    syntax: ["CREATE [OR REPLACE] MODEL 'name' USING SHARE '[profile#]share.schema' [VERSION AS OF n]"],
    summary: "Imports a shared registered model (its versions, aliases and the runs they came from).",
    examples: ["CREATE MODEL 'churn-classifier' USING SHARE 'acme.share#churn_share.classifier'"],
  },
  {
    topic: "SELECT",
    syntax: [
      "SELECT * | column, … FROM '[profile#]share.schema.table' [VERSION AS OF n] [WHERE condition] [LIMIT n]",
    ],
    summary:
      "Previews a shared table (1000 rows unless LIMIT says otherwise). Conditions: = != < <= > >=, IS [NOT] NULL, [NOT] IN (…), [NOT] LIKE '%x_', AND, OR, NOT, parentheses.",
    examples: [
      "SELECT * FROM 'acme.share#churn_share.churn.runs' LIMIT 10",
      "SELECT run_id, key, value FROM 'acme.share#churn_share.churn.metrics' WHERE key = 'auc' AND value > 0.8",
      "SELECT * FROM 'acme.share#churn_share.churn.runs' VERSION AS OF 1",
    ],
  },
  {
    topic: "PLOT",
    syntax: [
      "PLOT METRIC metric FROM '[profile#]share.schema' [BY step | BY time]",
      "PLOT METRIC metric FROM EXPERIMENT 'name' [BY step | BY time]",
    ],
    summary:
      "Draws a metric's history as a line chart, one line per run: from a shared experiment (before importing it) or from an experiment in MLflow. The x axis is the step (default) or the time. Long histories are downsampled for drawing, and the chart says so.",
    examples: [
      "PLOT METRIC loss FROM 'acme.share#churn_share.churn'",
      "PLOT METRIC loss FROM EXPERIMENT 'churn-prediction' BY time",
    ],
  },
  {
    topic: "USE",
    syntax: ["USE MLFLOW 'http://host:port'", "USE PROFILE 'path/to/profile.share'"],
    summary:
      "Sets the MLflow server (default: MLFLOW_TRACKING_URI) or the profile that coordinates without 'profile#' use, for the statements after it.",
    examples: ["USE MLFLOW 'http://127.0.0.1:5000'", "USE PROFILE 'acme.share'"],
  },
  {
    topic: "EXPLAIN",
    syntax: ["EXPLAIN statement"],
    summary: "Shows the plan a statement would run, with every default filled in, without running it.",
    examples: ["EXPLAIN CREATE SHARE churn_share WITH EXPERIMENT '/Users/me/churn'"],
  },
  {
    topic: "HELP",
    syntax: ["HELP [topic]"],
    summary: "Shows this reference, or the statements whose name starts with the topic.",
    examples: ["HELP", "HELP CREATE SHARE"],
  },
  {
    topic: "PARAMETERS",
    syntax: [":name"],
    summary:
      "A :name takes the value of the notebook variable `name`, as a value: it is never pasted into the statement's text. Names, strings and numbers may be parameters.",
    examples: ["CREATE SHARE :share_name WITH EXPERIMENT :experiment", "SELECT * FROM :table LIMIT :n"],
  },
];

const GENERAL = [
  "%arcuate statements share MLflow experiments and models over Delta Sharing.",
  "Keywords are case-insensitive; names are bare, `back-quoted` or 'quoted'; separate statements with ';';",
  "comments are -- to the end of the line or /* … */. HELP <topic> shows one statement.",
];

export function help(topic?: string): string {
  if (topic === undefined || topic.trim() === "") {
    return [...GENERAL, "", ...HELP_ENTRIES.map((entry) => `  ${entry.syntax[0]}`)].join("\n");
  }
  const wanted = topic.trim().replace(/\s+/g, " ").toUpperCase();
  // Every form the topic starts (HELP SHOW: SHOW and SHOW TRACE); else the forms it is part of
  // (HELP SHOW TABLES: SHOW).
  const forms = HELP_ENTRIES.filter((entry) => entry.topic.startsWith(wanted));
  const entries = forms.length > 0 ? forms : HELP_ENTRIES.filter((entry) => wanted.startsWith(entry.topic));
  if (entries.length > 0) return entries.map(formatEntry).join("\n\n");
  const nearest = nearestWord(
    wanted,
    HELP_ENTRIES.map((entry) => entry.topic),
  );
  const topics = HELP_ENTRIES.map((entry) => entry.topic).join(", ");
  return `no help on ${wanted}${nearest ? `; did you mean ${nearest}?` : ""}\ntopics: ${topics}`;
}

function formatEntry(entry: HelpEntry): string {
  return [
    ...entry.syntax,
    "",
    `  ${entry.summary}`,
    "",
    ...entry.examples.map((example) => `  ${example}`),
  ].join("\n");
}
