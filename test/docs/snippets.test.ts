// Every TypeScript snippet in README.md and docs/ compiles as written: a reader who pastes one
// into a file of their own gets no undefined names or wrong signatures. Snippets fenced ```ts or
// ```typescript are programs importing "arcuate" (resolved here to the sources); signature
// listings are fenced ```text. Type-checked with the project's own compiler options.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/paths.js";

interface Snippet {
  file: string;
  line: number;
  code: string;
}

function snippetsOf(file: string): Snippet[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end]!.startsWith("```")) end++;
    found.push({
      file: relative(PROJECT_ROOT, file),
      line: start + 1,
      code: lines.slice(start, end).join("\n"),
    });
    i = end;
  }
  return found;
}

const markdown = [
  join(PROJECT_ROOT, "README.md"),
  join(PROJECT_ROOT, "notebooks", "README.md"),
  ...readdirSync(join(PROJECT_ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => join(PROJECT_ROOT, "docs", name)),
];
const snippets = markdown.flatMap(snippetsOf);

it("finds the snippets (README's among them)", () => {
  expect(snippets.some((s) => s.file === "README.md")).toBe(true);
  expect(snippets.length).toBeGreaterThanOrEqual(6);
});

it("type-checks every snippet as written", () => {
  const config = ts.readConfigFile(join(PROJECT_ROOT, "tsconfig.json"), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, PROJECT_ROOT);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    paths: {
      arcuate: [join(PROJECT_ROOT, "src", "index.ts")],
      "arcuate/kernel": [join(PROJECT_ROOT, "src", "kernel", "index.ts")],
    },
  };
  // Each snippet is its own module (.mts: ESM, so top-level await is allowed) in a virtual folder.
  const names = new Map(
    snippets.map((s, i) => [join(PROJECT_ROOT, ".snippets", `snippet-${i}.mts`), s] as const),
  );
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (name) => names.get(name)?.code ?? readFile(name);
  host.fileExists = (name) => names.has(name) || fileExists(name);
  const program = ts.createProgram([...names.keys()], options, host);
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && names.has(d.file.fileName))
    .map((d) => {
      const snippet = names.get(d.file!.fileName)!;
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${snippet.file}:${snippet.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
  expect(problems).toEqual([]);
}, 120_000);
