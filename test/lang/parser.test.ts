// Text → AST, one case per statement form, plus the lexical rules (case-insensitive keywords that
// never swallow names, quoting, escapes, comments, parameters) and the positions errors rely on.
import { describe, expect, it } from "vitest";
import { literal, parameterRef, type Span, withoutPositions } from "../../grammar/ast.js";
import { parse, tokenize } from "../../grammar/parse.js";

const at: Span = { start: 0, end: 0, line: 1, column: 1 };
const lit = (value: string | number | boolean | null) => withoutPositions(literal(value, at));
const param = (name: string) => withoutPositions(parameterRef(name, at));
const one = (text: string) => {
  const { statements } = parse(text);
  expect(statements).toHaveLength(1);
  return withoutPositions(statements[0]);
};

describe("every statement form parses to its AST", () => {
  it.each([
    [
      "CREATE SHARE s",
      { kind: "createShare", share: lit("s"), ifNotExists: false, comment: null, objects: [] },
    ],
    [
      "CREATE SHARE IF NOT EXISTS s COMMENT 'c' WITH EXPERIMENT 'e' AS x, MODEL 'm'",
      {
        kind: "createShare",
        share: lit("s"),
        ifNotExists: true,
        comment: lit("c"),
        objects: [
          { kind: "experiment", name: lit("e"), alias: lit("x"), legacyTableForm: false },
          { kind: "model", name: lit("m"), alias: null, legacyTableForm: false },
        ],
      },
    ],
    [
      "CREATE SHARE s WITH TABLE t FROM EXPERIMENT 'e'",
      {
        kind: "createShare",
        share: lit("s"),
        ifNotExists: false,
        comment: null,
        objects: [{ kind: "experiment", name: lit("e"), alias: lit("t"), legacyTableForm: true }],
      },
    ],
    [
      "ALTER SHARE s ADD MODEL 'm' AS x, REMOVE y",
      {
        kind: "alterShare",
        share: lit("s"),
        alterations: [
          { kind: "add", object: { kind: "model", name: lit("m"), alias: lit("x"), legacyTableForm: false } },
          { kind: "remove", alias: lit("y") },
        ],
      },
    ],
    ["REFRESH SHARE s x", { kind: "refreshShare", share: lit("s"), alias: lit("x") }],
    ["DROP SHARE IF EXISTS s", { kind: "dropShare", share: lit("s"), ifExists: true }],
    [
      "CREATE RECIPIENT r",
      { kind: "createRecipient", recipient: lit("r"), ifNotExists: false, oauth: false, comment: null },
    ],
    [
      "create recipient r using oauth",
      { kind: "createRecipient", recipient: lit("r"), ifNotExists: false, oauth: true, comment: null },
    ],
    ["DROP RECIPIENT r", { kind: "dropRecipient", recipient: lit("r"), ifExists: false }],
    ["GRANT SELECT ON SHARE s TO RECIPIENT r", { kind: "grant", share: lit("s"), recipient: lit("r") }],
    ["REVOKE SELECT ON SHARE s FROM RECIPIENT r", { kind: "revoke", share: lit("s"), recipient: lit("r") }],
    ["SHOW SHARES", { kind: "showShares" }],
    ["SHOW SHARES IN 'p.share'", { kind: "showRemoteShares", profile: lit("p.share") }],
    ["SHOW RECIPIENTS", { kind: "showRecipients" }],
    ["SHOW GRANTS ON SHARE s", { kind: "showGrants", share: lit("s"), recipient: null }],
    ["SHOW GRANTS TO RECIPIENT r", { kind: "showGrants", share: null, recipient: lit("r") }],
    ["SHOW TABLES IN SHARE s", { kind: "showTables", share: lit("s") }],
    ["SHOW TABLES IN 'p#s'", { kind: "showRemoteTables", coordinate: lit("p#s") }],
    ["DESCRIBE SHARE s", { kind: "describeShare", share: lit("s") }],
    ["DESCRIBE RECIPIENT r", { kind: "describeRecipient", recipient: lit("r") }],
    [
      "DESCRIBE HISTORY s.x.t",
      { kind: "describeHistory", share: lit("s"), alias: lit("x"), table: lit("t") },
    ],
    [
      "CREATE OR REPLACE EXPERIMENT 'e' USING SHARE 'p#s.x' VERSION AS OF 2",
      {
        kind: "importExperiment",
        name: lit("e"),
        orReplace: true,
        coordinate: lit("p#s.x"),
        version: lit(2),
      },
    ],
    [
      "CREATE MODEL 'm' USING SHARE :coordinate",
      {
        kind: "importModel",
        name: lit("m"),
        orReplace: false,
        coordinate: param("coordinate"),
        version: null,
      },
    ],
    [
      "SELECT a, `b c` FROM 'p#s.x.t' WHERE a = 1 OR b IS NULL AND NOT c IN (1, 'x') LIMIT :n",
      {
        kind: "select",
        columns: ["a", "b c"],
        from: lit("p#s.x.t"),
        version: null,
        where: {
          kind: "or",
          left: { kind: "compare", column: "a", operator: "=", value: lit(1) },
          right: {
            kind: "and",
            left: { kind: "isNull", column: "b", negated: false },
            right: {
              kind: "not",
              operand: { kind: "in", column: "c", values: [lit(1), lit("x")], negated: false },
            },
          },
        },
        limit: param("n"),
      },
    ],
    ["USE MLFLOW 'http://h:5000'", { kind: "useMlflow", uri: lit("http://h:5000") }],
    ["USE PROFILE 'p.share'", { kind: "useProfile", path: lit("p.share") }],
    ["EXPLAIN SHOW SHARES", { kind: "explain", statement: { kind: "showShares" } }],
    ["HELP", { kind: "help", topic: null }],
    ["HELP create Share", { kind: "help", topic: "CREATE SHARE" }],
  ])("%s", (text, ast) => {
    expect(one(text)).toEqual(ast);
  });
});

describe("tokens", () => {
  it("keywords are case-insensitive", () => {
    expect(one("sHoW sHaReS")).toEqual({ kind: "showShares" });
  });

  it("a word that only starts with a keyword is a name", () => {
    expect(one("CREATE SHARE SHAREHOLDERS")).toMatchObject({ share: lit("SHAREHOLDERS") });
    expect(one("DROP SHARE models")).toMatchObject({ share: lit("models") });
    expect(one("DROP SHARE selection")).toMatchObject({ share: lit("selection") });
    expect(tokenize("shares tables recipients").map((token) => token.tokenType.name)).toEqual([
      "SHARES",
      "TABLES",
      "RECIPIENTS",
    ]);
  });

  it("names may be back-quoted (keywords too) or single-quoted", () => {
    expect(one("DROP SHARE `model`")).toMatchObject({ share: lit("model") });
    expect(one("DROP SHARE `a``b`")).toMatchObject({ share: lit("a`b") });
    expect(one("DROP SHARE 'my share'")).toMatchObject({ share: lit("my share") });
  });

  it("strings take escapes and doubled quotes; other backslashes stay", () => {
    expect(one(`CREATE SHARE s COMMENT 'it''s\\n\\t\\'x\\' C:\\Users'`)).toMatchObject({
      comment: lit("it's\n\t'x' C:\\Users"),
    });
    expect(one(`CREATE SHARE s COMMENT "say ""hi"""`)).toMatchObject({ comment: lit('say "hi"') });
  });

  it("comments and empty statements are skipped; ';' separates statements", () => {
    const { statements } = parse("-- first\nSHOW SHARES; /* two\nlines */ ;; SHOW RECIPIENTS -- end");
    expect(statements.map((statement) => statement.kind)).toEqual(["showShares", "showRecipients"]);
  });

  it("numbers and parameters", () => {
    expect(one("SELECT * FROM :t WHERE x > -1.5e3 LIMIT 10")).toMatchObject({
      from: param("t"),
      where: { value: lit(-1500) },
      limit: lit(10),
    });
  });
});

describe("positions", () => {
  it("each statement keeps its own text and where it starts", () => {
    const text = "SHOW SHARES;\n  DROP SHARE s -- gone\n;";
    const [first, second] = parse(text).statements;
    expect(first?.source).toEqual({ text: "SHOW SHARES", span: { start: 0, end: 11, line: 1, column: 1 } });
    expect(second?.source.text).toBe("DROP SHARE s");
    expect(second?.source.span).toMatchObject({ line: 2, column: 3 });
  });

  it("values point at their token", () => {
    const statement = parse("SHOW SHARES;\nSELECT * FROM 'p#s.x.t' LIMIT :n").statements[1];
    expect(statement).toMatchObject({
      limit: { kind: "parameter", name: "n", span: { line: 2, column: 31, start: 43, end: 45 } },
    });
  });

  it("shows control characters and U+2028 in an excerpt as one mark each, the caret under its own", () => {
    // found by the fuzz test: a raw U+2028 broke the excerpt's line in two
    expect(() => parse("\u2028\u0000")).toThrow(
      'syntax error at line 1, column 2: unexpected character "\\u0000"\n  1 | \ufffd\ufffd\n    |  ^',
    );
  });
});
