// Pure parts of the sharing server, without I/O: partition-value hints, range headers, page tokens
// and URL signing.
import { describe, expect, it } from "vitest";
import { parseRange } from "../../src/sharing/server/files.js";
import { PageTokens } from "../../src/sharing/server/pagination.js";
import { partitionFilter } from "../../src/sharing/server/predicates.js";
import { UrlSigner } from "../../src/sharing/server/signing.js";

const col = (name: string, valueType = "string") => ({ op: "column", name, valueType });
const lit = (value: string, valueType = "string") => ({ op: "literal", value, valueType });
const op = (name: string, ...children: unknown[]) => ({ op: name, children });

describe("jsonPredicateHints on partition values", () => {
  const keep = (hint: unknown, values: Record<string, string | null>) =>
    partitionFilter(typeof hint === "string" ? hint : JSON.stringify(hint), ["p", "n", "d"])(values);

  it.each([
    ["equal, matching", op("equal", col("p"), lit("a")), { p: "a" }, true],
    ["equal, not matching", op("equal", col("p"), lit("a")), { p: "b" }, false],
    ["case-insensitive column names", op("equal", col("P"), lit("a")), { p: "b" }, false],
    ["numbers compare as numbers", op("lessThan", col("n", "int"), lit("10", "int")), { n: "9" }, true],
    ["… not as strings", op("greaterThan", col("n", "long"), lit("10", "long")), { n: "9" }, false],
    [
      "dates",
      op("greaterThanOrEqual", col("d", "date"), lit("2021-04-29", "date")),
      { d: "2021-04-28" },
      false,
    ],
    ["null partition: comparison is NULL, skipped", op("equal", col("p"), lit("a")), { p: null }, false],
    ["empty string is null", op("isNull", col("p")), { p: "" }, true],
    ["not(isNull)", op("not", op("isNull", col("p"))), { p: "x" }, true],
    [
      "and with a false child",
      op("and", op("equal", col("p"), lit("a")), op("equal", col("n", "int"), lit("2", "int"))),
      { p: "a", n: "3" },
      false,
    ],
    [
      "or with a true child",
      op("or", op("equal", col("p"), lit("z")), op("equal", col("n", "int"), lit("3", "int"))),
      { p: "a", n: "3" },
      true,
    ],
    ["a data column is unknown: kept", op("equal", col("score", "int"), lit("1", "int")), { p: "a" }, true],
    [
      "not(unknown) is unknown: kept",
      op("not", op("equal", col("score", "int"), lit("1", "int"))),
      { p: "a" },
      true,
    ],
    [
      "and(false, unknown) is false",
      op("and", op("equal", col("p"), lit("z")), op("equal", col("score"), lit("1"))),
      { p: "a" },
      false,
    ],
    [
      "not(null and unknown) is unknown: kept",
      op("not", op("and", op("equal", col("p"), lit("z")), op("equal", col("score"), lit("1")))),
      { p: null },
      true,
    ],
    ["an unknown op: kept", op("like", col("p"), lit("a%")), { p: "b" }, true],
    ["malformed JSON: kept", "{nope", { p: "b" }, true],
    ["a bad number: kept", op("equal", col("n", "int"), lit("x", "int")), { n: "1" }, true],
  ])("%s", (_name, hint, values, expected) => {
    expect(keep(hint, values)).toBe(expected);
  });

  it("filters nothing on a table without partition columns", () => {
    expect(partitionFilter(JSON.stringify(op("equal", col("p"), lit("a"))), [])({})).toBe(true);
  });
});

describe("Range headers", () => {
  it.each([
    ["bytes=0-9", [0, 9]],
    ["bytes=90-", [90, 99]],
    ["bytes=-10", [90, 99]],
    ["bytes=50-1000", [50, 99]],
    ["bytes=100-", "unsatisfiable"],
    ["bytes=-0", "unsatisfiable"],
    ["bytes=5-1", undefined],
    ["bytes=0-1,5-6", undefined],
    ["items=0-1", undefined],
  ])("%s of 100 bytes", (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });
});

describe("tokens and signatures", () => {
  const key = Buffer.alloc(32, 7);

  it("binds page tokens to the recipient and the listing", () => {
    const tokens = new PageTokens(key, 10);
    const token = tokens.sign("r1", "shares", "b");
    expect(tokens.verify(token, "r1", "shares")).toBe("b");
    expect(() => tokens.verify(token, "r2", "shares")).toThrow(/not valid/);
    expect(() => tokens.verify(token, "r1", "schemas\ns")).toThrow(/not valid/);
    expect(() =>
      tokens.verify(`${Buffer.from("z").toString("base64url")}.${token.split(".")[1]}`, "r1", "shares"),
    ).toThrow(/not valid/);
    expect(tokens.request(new URLSearchParams("maxResults=99"), "r1", "shares").maxResults).toBe(10);
  });

  it("signs file URLs with an expiry rounded up to a step, and checks them", () => {
    const signer = new UrlSigner(key, 3_600_000);
    const now = Date.UTC(2026, 0, 1, 12, 0, 0, 123);
    const expires = signer.expiry(now);
    expect(expires).toBeGreaterThanOrEqual(now + 3_600_000);
    expect(expires - (now + 3_600_000)).toBeLessThan(60_000);
    expect(signer.expiry(now + 1000)).toBe(expires);
    const { url } = signer.sign(
      "http://h/delta-sharing",
      { r: "r", s: "s", c: "c", t: "t", p: "a.parquet" },
      expires,
    );
    const parsed = new URL(url);
    const payload = parsed.pathname.split("/").pop()!;
    expect(signer.verify(payload, parsed.searchParams, now)).toEqual({
      r: "r",
      s: "s",
      c: "c",
      t: "t",
      p: "a.parquet",
    });
    expect(() => signer.verify(payload, parsed.searchParams, expires)).toThrow(/expired/);
    parsed.searchParams.set("Expires", String(expires + 1));
    expect(() => signer.verify(payload, parsed.searchParams, now)).toThrow(/bad signature/);
  });
});
