// Plans are data: every valid fixture compiles to exactly its expected plan JSON, and every
// invalid one fails with exactly its expected message (position, words and caret).
import { describe, expect, it } from "vitest";
import { ArcuateError, ParseError } from "../../src/errors.js";
import { compileFixtureText, fixtureNames, readFixture } from "./fixtures.js";

describe("valid statements compile to their plans", () => {
  it.each(fixtureNames("valid"))("%s", (name) => {
    const plans = compileFixtureText(readFixture("valid", name, ".sql"));
    expect(plans).toEqual(JSON.parse(readFixture("valid", name, ".json")));
    // A plan survives JSON unchanged: it holds nothing but data.
    expect(JSON.parse(JSON.stringify(plans))).toEqual(plans);
  });
});

describe("invalid statements fail with a message that says where and why", () => {
  it.each(fixtureNames("invalid"))("%s", (name) => {
    const expected = readFixture("invalid", name, ".txt").trimEnd();
    let thrown: unknown;
    try {
      compileFixtureText(readFixture("invalid", name, ".sql"));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ArcuateError);
    expect((thrown as Error).message).toBe(expected);
    if (thrown instanceof ParseError) {
      expect(expected).toMatch(new RegExp(`^[a-z ]*error at line ${thrown.line}, column ${thrown.column}:`));
    }
  });
});
