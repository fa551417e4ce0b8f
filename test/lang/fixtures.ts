// The language fixtures: test/fixtures/lang/valid/*.sql with the expected plans (*.json), and
// invalid/*.sql with the expected error message (*.txt). Every fixture compiles in the same
// context unless its first line says otherwise: `-- context: {"mlflowUri": null}`.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "../../grammar/parse.js";
import { type CompileContext, compileScript } from "../../src/lang/compile.js";
import type { Plan } from "../../src/lang/plan.js";
import { PROJECT_ROOT } from "../support/paths.js";

export const FIXTURES = join(PROJECT_ROOT, "test", "fixtures", "lang");

/** Notebook variables the fixtures may use as :parameters. */
export const VARIABLES: Record<string, unknown> = {
  share_name: "from_variable",
  experiment: "/Users/me/churn",
  schema: "churn",
  n: 25,
  evil: "x'; DROP SHARE s; --",
};

export const CONTEXT: CompileContext = {
  workDir: "/work/arcuate",
  mlflowUri: "http://mlflow.provider:5000",
  profile: null,
  variables: (name) => VARIABLES[name],
};

export function fixtureNames(kind: "valid" | "invalid"): string[] {
  return readdirSync(join(FIXTURES, kind))
    .filter((file) => file.endsWith(".sql"))
    .map((file) => file.slice(0, -4))
    .sort();
}

export function readFixture(kind: "valid" | "invalid", name: string, extension: string): string {
  return readFileSync(join(FIXTURES, kind, name + extension), "utf8");
}

export function compileFixtureText(text: string): Plan[] {
  const header = /^-- context: (\{.*\})$/m.exec(text.split("\n")[0] ?? "");
  const context = header
    ? { ...CONTEXT, ...(JSON.parse(header[1] as string) as Partial<CompileContext>) }
    : CONTEXT;
  return compileScript(parse(text), context);
}
