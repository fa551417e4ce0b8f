// In-process tests of the reader's pieces: the storage contract, schemas, partition values, time
// travel and the errors a corrupt or missing log must give.
import { appendFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { describe, expect, it } from "vitest";
import {
  arrowSchemaToDelta,
  DeltaTable,
  deltaSchemaToArrow,
  LocalStorage,
  MemoryStorage,
  parseSchemaString,
  type StructType,
} from "../../src/delta/index.js";
import { formatTimestampMicros, jsonValueAt } from "../../src/delta/json.js";
import { parseDecimalUnscaled, parseTimestampMicros, partitionColumn } from "../../src/delta/partitions.js";
import { computeStats } from "../../src/delta/stats.js";
import { ArcuateError, ConflictError, NotFoundError } from "../../src/errors.js";
import { ALL_TYPES_SCHEMA, allTypesBatch } from "./support/data.js";

const tmp = () => mkdtempSync(join(tmpdir(), "arcuate-delta-reader-"));

describe("LocalStorage", () => {
  it("lists sorted and recursively, reads ranges, writes atomically, and putIfAbsent refuses an existing file", async () => {
    const storage = new LocalStorage(tmp());
    await storage.write("b/2.txt", new TextEncoder().encode("two"));
    await storage.write("a.txt", new TextEncoder().encode("hello world"));
    await storage.write("b/1.txt", new TextEncoder().encode("one"));
    expect((await storage.list("")).map((f) => f.path)).toEqual(["a.txt", "b/1.txt", "b/2.txt"]);
    expect((await storage.list("b/")).map((f) => f.path)).toEqual(["b/1.txt", "b/2.txt"]);
    expect(await storage.list("missing/")).toEqual([]);
    expect(new TextDecoder().decode(await storage.read("a.txt", { offset: 6, length: 5 }))).toBe("world");
    await storage.putIfAbsent("c.json", new TextEncoder().encode("first"));
    await expect(storage.putIfAbsent("c.json", new TextEncoder().encode("second"))).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(new TextDecoder().decode(await storage.read("c.json"))).toBe("first");
    await expect(storage.read("nope")).rejects.toBeInstanceOf(NotFoundError);
    expect(await storage.stat("nope")).toBeUndefined();
    await storage.delete("a.txt");
    expect((await storage.list("")).map((f) => f.path)).toEqual(["b/1.txt", "b/2.txt", "c.json"]);
  });
});

describe("schemas", () => {
  it("round-trips every type through schemaString and Arrow", () => {
    const text = JSON.stringify(ALL_TYPES_SCHEMA);
    const parsed = parseSchemaString(text);
    expect(parsed).toEqual(ALL_TYPES_SCHEMA);
    const arrowSchema = deltaSchemaToArrow(parsed);
    expect(String(arrowSchema.fields.find((f) => f.name === "at")!.type)).toBe("Timestamp<MICROSECOND, UTC>");
    const back = arrowSchemaToDelta(arrowSchema);
    expect(JSON.stringify(back.fields.map((f) => [f.name, f.type]))).toBe(
      JSON.stringify(ALL_TYPES_SCHEMA.fields.map((f) => [f.name, f.type])),
    );
  });

  it("refuses bad schemas by name", () => {
    expect(() => parseSchemaString("{not json")).toThrow("delta: schemaString is not JSON");
    expect(() => parseSchemaString('{"type":"struct","fields":[{"name":"v","type":"geography"}]}')).toThrow(
      'delta: unsupported type "geography" (v)',
    );
    expect(() => parseSchemaString('{"type":"array"}')).toThrow(
      "delta: invalid schema: the top level is not a struct",
    );
  });
});

describe("partition values", () => {
  it("parses the protocol's forms", () => {
    expect(parseTimestampMicros("2021-09-08 11:11:11")).toBe(1631099471000000n);
    expect(parseTimestampMicros("2021-09-08 11:11:11.123456")).toBe(1631099471123456n);
    expect(parseTimestampMicros("2024-01-01T10:00:00.000000Z")).toBe(1704103200000000n);
    expect(parseTimestampMicros("1969-12-31 23:59:59.999999")).toBe(-1n);
    expect(formatTimestampMicros(-1n, true)).toBe("1969-12-31T23:59:59.999999Z");
    expect(parseDecimalUnscaled("-2342342.23423", 5)).toBe(-234234223423n);
    expect(parseDecimalUnscaled("1.5", 3)).toBe(1500n);
    const dates = partitionColumn("date", "0001-01-01", 2);
    expect(jsonValueAt(dates, 1, "date")).toBe("0001-01-01");
    const nulls = partitionColumn("long", null, 3);
    expect([0, 1, 2].map((i) => jsonValueAt(nulls, i, "long"))).toEqual([null, null, null]);
    const binary = partitionColumn("binary", "\u0001\u0002\u00ff", 1);
    expect(jsonValueAt(binary, 0, "binary")).toBe(Buffer.from([1, 2, 255]).toString("base64"));
  });
});

async function smallTable(): Promise<DeltaTable> {
  const table = await DeltaTable.create(join(tmp(), "t"), { schema: ALL_TYPES_SCHEMA });
  for (let i = 0; i < 3; i += 1) await table.write(allTypesBatch(i * 10, 10), { mode: "append" });
  return table;
}

describe("time travel and corrupt logs", () => {
  it("finds versions by commit time", async () => {
    const table = await smallTable();
    const log = join(table.location, "_delta_log");
    const base = Date.UTC(2024, 0, 1);
    for (let v = 0; v <= 3; v += 1) {
      const t = new Date(base + v * 60_000);
      utimesSync(join(log, `${String(v).padStart(20, "0")}.json`), t, t);
    }
    expect(await table.versionAtTimestamp(base + 90_000, "atOrBefore")).toBe(1);
    expect(await table.versionAtTimestamp(base + 90_000, "atOrAfter")).toBe(2);
    expect((await table.snapshot({ timestamp: new Date(base + 120_000) })).version).toBe(2);
    expect((await table.snapshot({ timestamp: "2024-01-01T00:03:30Z" })).version).toBe(3);
    expect((await (await table.snapshot({ version: 1 })).readArrow()).numRows).toBe(10);
    await expect(table.snapshot({ timestamp: base - 1 })).rejects.toThrow("delta: no version at or before");
    await expect(table.snapshot({ version: 9 })).rejects.toThrow(
      "delta: version 9 does not exist (latest is 3)",
    );
  });

  it("gives clear errors, never a wrong answer", async () => {
    await expect(DeltaTable.open(tmp())).rejects.toBeInstanceOf(NotFoundError);

    const gap = await smallTable();
    rmSync(join(gap.location, "_delta_log", `${"2".padStart(20, "0")}.json`));
    await expect(gap.snapshot()).rejects.toThrow("delta: versions are not contiguous: commit 2 is missing");
    expect((await gap.snapshot({ version: 1 })).version).toBe(1);

    const torn = await smallTable();
    appendFileSync(join(torn.location, "_delta_log", `${"3".padStart(20, "0")}.json`), '{"add":{"path":');
    const error = await torn.snapshot().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArcuateError);
    expect((error as ArcuateError).code).toBe("CORRUPT_TABLE");
    expect((error as ArcuateError).message).toMatch(
      /corrupt log file _delta_log\/0+3\.json, line \d+: not JSON/,
    );

    const missingFile = await smallTable();
    const snap = await missingFile.snapshot();
    rmSync(join(missingFile.location, decodeURIComponent(snap.files[0]!.path)));
    await expect(snap.readArrow()).rejects.toThrow(/delta: data file .* of version 3 cannot be read/);

    const future = join(tmp(), "future");
    const log = join(future, "_delta_log");
    await new LocalStorage(future).write("_delta_log/x", new Uint8Array());
    writeFileSync(
      join(log, `${"0".padStart(20, "0")}.json`),
      `${JSON.stringify({ protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["catalogOwned"] } })}\n${JSON.stringify({ metaData: { id: "x", format: { provider: "parquet", options: {} }, schemaString: JSON.stringify({ type: "struct", fields: [] } satisfies StructType), partitionColumns: [], configuration: {} } })}\n`,
    );
    await expect((await DeltaTable.open(future)).snapshot()).rejects.toThrow(
      "delta: unsupported reader feature catalogOwned",
    );
  });

  it("streams with a limit and projects columns", async () => {
    const table = await smallTable();
    const snap = await table.snapshot();
    const limited = await snap.readArrow({ limit: 15, columns: ["id", "info"] });
    expect(limited.numRows).toBe(15);
    expect(limited.schema.fields.map((f) => f.name)).toEqual(["id", "info"]);
    let batches = 0;
    for await (const batch of snap.scanBatches()) {
      expect(batch).toBeInstanceOf(arrow.RecordBatch);
      batches += 1;
    }
    expect(batches).toBe(3);
  });
});

describe("file statistics", () => {
  it("bounds every column type, nulls counted, NaN left out, nested structs nested", () => {
    const batch = allTypesBatch(0, 40).batches[0]!;
    const stats = computeStats(ALL_TYPES_SCHEMA.fields, [batch]);
    expect(stats.numRecords).toBe(40);
    expect(stats.minValues).toMatchObject({ id: 0, small: -39, tiny: -128, ratio: 0 });
    expect(stats.maxValues).toMatchObject({ id: 39, small: 38, tiny: -89 });
    // ±Infinity has no JSON form, and decimals past 15 digits no exact JSON number: no bounds.
    expect(stats.minValues.score).toBeUndefined();
    expect(stats.maxValues.price).toBeUndefined();
    expect(stats.minValues.at).toBe("1969-12-20T10:13:20.000Z");
    expect(stats.maxValues.at).toBe("1970-01-28T10:13:24.815Z"); // rounded up to the millisecond
    expect(stats.nullCount).toMatchObject({ id: 0, name: 6, price: 7, info: { a: 15, c: { d: 17 } } }); // a leaf is null where it or an ancestor is
    expect((stats.minValues.info as Record<string, unknown>).b).toBe("b1");
  });
});

describe("application transactions", () => {
  it("records txn actions, kept through checkpoints, so a retried write can be skipped", async () => {
    const table = await DeltaTable.create(join(tmp(), "txn"), { schema: ALL_TYPES_SCHEMA });
    await table.write(allTypesBatch(0, 2), { mode: "append", txn: { appId: "export-1", version: 7 } });
    await table.checkpoint();
    await table.write(allTypesBatch(2, 2), { mode: "append", txn: { appId: "export-2", version: 1 } });
    const snapshot = await table.snapshot();
    expect(snapshot.transactionVersion("export-1")).toBe(7);
    expect(snapshot.transactionVersion("export-2")).toBe(1);
    expect(snapshot.transactionVersion("other")).toBeUndefined();
  });
});

describe("MemoryStorage", () => {
  it("holds a whole table, with racing writers resolved by putIfAbsent", async () => {
    const storage = new MemoryStorage();
    const table = await DeltaTable.create("memory://t", { schema: ALL_TYPES_SCHEMA, storage });
    const versions = await Promise.all(
      [0, 1, 2, 3].map((k) => table.write(allTypesBatch(k * 5, 5), { mode: "append" })),
    );
    expect([...versions].sort()).toEqual([1, 2, 3, 4]);
    const reopened = await DeltaTable.open("memory://t", { storage });
    expect((await (await reopened.snapshot()).readArrow()).numRows).toBe(20);
    await expect(
      storage.putIfAbsent("_delta_log/00000000000000000001.json", new Uint8Array()),
    ).rejects.toBeInstanceOf(ConflictError);
  });
});
