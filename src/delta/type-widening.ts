// Type widening (PROTOCOL.md "Type Widening"): a column's type may have been widened after data
// files were written, with the history in the `delta.typeChanges` metadata of its nearest struct
// field. Reading converts older files' values to the current type (parquet.ts `conform`); this
// module checks, as the protocol asks readers to, that every recorded change is one arcuate
// converts, so an unknown change is refused instead of mis-read.
import { ArcuateError } from "../errors.js";
import { type DataType, decimalOf, type StructType } from "./schema.js";

const INTEGERS = ["byte", "short", "integer", "long"];

/** Whether the protocol lists `from` → `to` as a supported widening (and parquet.ts converts it). */
export function isSupportedWidening(from: string, to: string): boolean {
  if (from === to) return true;
  const fi = INTEGERS.indexOf(from);
  const ti = INTEGERS.indexOf(to);
  if (fi >= 0 && ti >= 0) return fi < ti;
  if (to === "double") return from === "float" || (fi >= 0 && fi <= 2);
  if (from === "date") return to === "timestamp_ntz";
  const target = decimalOf(to);
  if (!target) return false;
  const source = decimalOf(from);
  if (source) {
    const k1 = target.precision - source.precision;
    const k2 = target.scale - source.scale;
    return k1 >= k2 && k2 >= 0;
  }
  // Byte, Short, Int → Decimal(10 + k1, k2); Long → Decimal(20 + k1, k2), k1 >= k2 >= 0.
  if (fi < 0) return false;
  const digits = fi === 3 ? 20 : 10;
  return target.precision - digits >= target.scale && target.scale >= 0;
}

function typeName(value: unknown): string | undefined {
  if (typeof value === "string") return value.replace(/\s+/g, "");
  return undefined;
}

function checkField(metadata: Record<string, unknown>, where: string): void {
  const changes = metadata["delta.typeChanges"];
  if (changes === undefined) return;
  const list = typeof changes === "string" ? (JSON.parse(changes) as unknown) : changes;
  if (!Array.isArray(list)) {
    throw new ArcuateError("CORRUPT_TABLE", `delta: delta.typeChanges of ${where} is not a list`);
  }
  for (const change of list as Array<Record<string, unknown>>) {
    const from = typeName(change?.fromType);
    const to = typeName(change?.toType);
    const path = typeof change?.fieldPath === "string" ? `${where}.${change.fieldPath}` : where;
    if (from === undefined || to === undefined || !isSupportedWidening(from, to)) {
      throw new ArcuateError(
        "UNSUPPORTED_FEATURE",
        `delta: unsupported type change ${JSON.stringify(change?.fromType)} → ${JSON.stringify(change?.toType)} of ${path} (typeWidening)`,
      );
    }
  }
}

function checkType(type: DataType, where: string): void {
  if (typeof type === "string") return;
  if (type.type === "struct") {
    for (const f of type.fields) {
      const path = where ? `${where}.${f.name}` : f.name;
      checkField(f.metadata, path);
      checkType(f.type, path);
    }
  } else if (type.type === "array") checkType(type.elementType, `${where}.element`);
  else {
    checkType(type.keyType, `${where}.key`);
    checkType(type.valueType, `${where}.value`);
  }
}

/** Throws UNSUPPORTED_FEATURE when the schema records a type change arcuate does not convert. */
export function checkTypeChanges(schema: StructType): void {
  checkType(schema, "");
}
