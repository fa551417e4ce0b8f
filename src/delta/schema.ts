// Delta schemas: the JSON `schemaString` of a metaData action (PROTOCOL.md "Schema
// Serialization Format"), parsed into typed values, and converted to and from Arrow schemas.
import * as arrow from "apache-arrow";
import { ArcuateError } from "../errors.js";

/** A primitive type name as it appears in a schemaString: "long", "decimal(10,2)", … */
export type PrimitiveType = string;
export interface StructField {
  name: string;
  type: DataType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}
export interface StructType {
  type: "struct";
  fields: StructField[];
}
export interface ArrayType {
  type: "array";
  elementType: DataType;
  containsNull: boolean;
}
export interface MapType {
  type: "map";
  keyType: DataType;
  valueType: DataType;
  valueContainsNull: boolean;
}
export type DataType = PrimitiveType | StructType | ArrayType | MapType;

const PRIMITIVES = new Set([
  "string",
  "long",
  "integer",
  "short",
  "byte",
  "float",
  "double",
  "boolean",
  "binary",
  "date",
  "timestamp",
  "timestamp_ntz",
  // semi-structured values (reader feature variantType), read as JSON text: see variant.ts
  "variant",
]);
const DECIMAL = /^decimal\(\s*(\d+)\s*,\s*(-?\d+)\s*\)$/;

function corrupt(message: string): ArcuateError {
  return new ArcuateError("CORRUPT_TABLE", `delta: invalid schema: ${message}`);
}

function checkType(value: unknown, where: string): DataType {
  if (typeof value === "string") {
    if (PRIMITIVES.has(value) || DECIMAL.test(value)) return value;
    if (value === "decimal") return "decimal(10,0)";
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      `delta: unsupported type ${JSON.stringify(value)} (${where})`,
    );
  }
  if (typeof value !== "object" || value === null) throw corrupt(`bad type at ${where}`);
  const t = value as Record<string, unknown>;
  switch (t.type) {
    case "variant": // as an array element or map value: {"type": "variant"}
      return "variant";
    case "struct":
      return checkStruct(t, where);
    case "array":
      return {
        type: "array",
        elementType: checkType(t.elementType, `${where}.element`),
        containsNull: t.containsNull !== false,
      };
    case "map":
      return {
        type: "map",
        keyType: checkType(t.keyType, `${where}.key`),
        valueType: checkType(t.valueType, `${where}.value`),
        valueContainsNull: t.valueContainsNull !== false,
      };
    default:
      throw corrupt(`unknown type ${JSON.stringify(t.type)} at ${where}`);
  }
}

function checkStruct(t: Record<string, unknown>, where: string): StructType {
  if (!Array.isArray(t.fields)) throw corrupt(`struct without fields at ${where || "top level"}`);
  return {
    type: "struct",
    fields: t.fields.map((f: unknown) => {
      if (typeof f !== "object" || f === null) throw corrupt(`bad field at ${where}`);
      const field = f as Record<string, unknown>;
      if (typeof field.name !== "string") throw corrupt(`field without a name at ${where}`);
      const path = where ? `${where}.${field.name}` : field.name;
      return {
        name: field.name,
        type: checkType(field.type, path),
        nullable: field.nullable !== false,
        metadata: (typeof field.metadata === "object" && field.metadata !== null
          ? field.metadata
          : {}) as Record<string, unknown>,
      };
    }),
  };
}

/** Parses a metaData `schemaString`. Throws CORRUPT_TABLE on bad JSON, UNSUPPORTED_FEATURE on unknown types. */
export function parseSchemaString(schemaString: string): StructType {
  let json: unknown;
  try {
    json = JSON.parse(schemaString);
  } catch (error) {
    throw new ArcuateError("CORRUPT_TABLE", `delta: schemaString is not JSON: ${messageOfJson(error)}`);
  }
  if (typeof json !== "object" || json === null || (json as { type?: unknown }).type !== "struct") {
    throw corrupt("the top level is not a struct");
  }
  return checkStruct(json as Record<string, unknown>, "");
}

function messageOfJson(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isStruct(t: DataType): t is StructType {
  return typeof t === "object" && t.type === "struct";
}
export function isArray(t: DataType): t is ArrayType {
  return typeof t === "object" && t.type === "array";
}
export function isMap(t: DataType): t is MapType {
  return typeof t === "object" && t.type === "map";
}
export function decimalOf(t: DataType): { precision: number; scale: number } | undefined {
  if (typeof t !== "string") return undefined;
  const m = DECIMAL.exec(t);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined;
}

/** The Arrow type arcuate reads a Delta type into (the same choices delta-rs makes). */
export function deltaTypeToArrow(t: DataType): arrow.DataType {
  if (typeof t === "string") {
    switch (t) {
      case "string":
      case "variant":
        return new arrow.Utf8();
      case "long":
        return new arrow.Int64();
      case "integer":
        return new arrow.Int32();
      case "short":
        return new arrow.Int16();
      case "byte":
        return new arrow.Int8();
      case "float":
        return new arrow.Float32();
      case "double":
        return new arrow.Float64();
      case "boolean":
        return new arrow.Bool();
      case "binary":
        return new arrow.Binary();
      case "date":
        return new arrow.DateDay();
      case "timestamp":
        return new arrow.TimestampMicrosecond("UTC");
      case "timestamp_ntz":
        return new arrow.TimestampMicrosecond();
    }
    const d = decimalOf(t);
    if (d) return new arrow.Decimal(d.scale, d.precision, 128);
    throw new ArcuateError("UNSUPPORTED_FEATURE", `delta: unsupported type ${t}`);
  }
  if (t.type === "struct") return new arrow.Struct(t.fields.map(deltaFieldToArrow));
  if (t.type === "array") {
    return new arrow.List(new arrow.Field("element", deltaTypeToArrow(t.elementType), t.containsNull));
  }
  const entries = new arrow.Struct([
    new arrow.Field("key", deltaTypeToArrow(t.keyType), false),
    new arrow.Field("value", deltaTypeToArrow(t.valueType), t.valueContainsNull),
  ]);
  return new arrow.Map_(new arrow.Field("key_value", entries, false), false);
}

function deltaFieldToArrow(f: StructField): arrow.Field {
  return new arrow.Field(f.name, deltaTypeToArrow(f.type), f.nullable);
}

/** The Arrow schema of a Delta schema (logical names). */
export function deltaSchemaToArrow(schema: StructType): arrow.Schema {
  return new arrow.Schema(schema.fields.map(deltaFieldToArrow));
}

/** The Delta type of an Arrow type; refuses types Delta cannot hold (unsigned 64-bit, durations, …). */
export function arrowTypeToDelta(t: arrow.DataType, where = "column"): DataType {
  switch (t.typeId) {
    case arrow.Type.Utf8:
    case arrow.Type.LargeUtf8:
      return "string";
    case arrow.Type.Binary:
    case arrow.Type.LargeBinary:
    case arrow.Type.FixedSizeBinary:
      return "binary";
    case arrow.Type.Bool:
      return "boolean";
    case arrow.Type.Float:
      return (t as arrow.Float).precision === arrow.Precision.SINGLE ? "float" : "double";
    case arrow.Type.Int: {
      const i = t as arrow.Int;
      if (i.isSigned)
        return i.bitWidth === 8
          ? "byte"
          : i.bitWidth === 16
            ? "short"
            : i.bitWidth === 32
              ? "integer"
              : "long";
      if (i.bitWidth === 8) return "short";
      if (i.bitWidth === 16) return "integer";
      if (i.bitWidth === 32) return "long";
      break;
    }
    case arrow.Type.Date:
      return "date";
    case arrow.Type.Dictionary:
      return arrowTypeToDelta((t as arrow.Dictionary).dictionary, where);
    case arrow.Type.Timestamp:
      return (t as arrow.Timestamp).timezone ? "timestamp" : "timestamp_ntz";
    case arrow.Type.Decimal: {
      const d = t as arrow.Decimal;
      return `decimal(${d.precision},${d.scale})`;
    }
    case arrow.Type.Struct:
      return { type: "struct", fields: (t as arrow.Struct).children.map((c) => arrowFieldToDelta(c, where)) };
    case arrow.Type.List:
    case arrow.Type.FixedSizeList: {
      const child = (t as arrow.List).children[0]!;
      return {
        type: "array",
        elementType: arrowTypeToDelta(child.type, `${where}.element`),
        containsNull: child.nullable,
      };
    }
    case arrow.Type.Map: {
      const entries = (t as arrow.Map_).children[0]!.type as arrow.Struct;
      const [key, value] = entries.children;
      return {
        type: "map",
        keyType: arrowTypeToDelta(key!.type, `${where}.key`),
        valueType: arrowTypeToDelta(value!.type, `${where}.value`),
        valueContainsNull: value!.nullable,
      };
    }
  }
  throw new ArcuateError(
    "UNSUPPORTED_FEATURE",
    `delta: Arrow type ${String(t)} of ${where} has no Delta type`,
  );
}

function arrowFieldToDelta(f: arrow.Field, parent?: string): StructField {
  const where = parent ? `${parent}.${f.name}` : f.name;
  return { name: f.name, type: arrowTypeToDelta(f.type, where), nullable: f.nullable, metadata: {} };
}

/** The Delta schema of an Arrow schema. */
export function arrowSchemaToDelta(schema: arrow.Schema): StructType {
  return { type: "struct", fields: schema.fields.map((f) => arrowFieldToDelta(f)) };
}

/** The schemaString of a schema (Spark's field order: name, type, nullable, metadata). */
export function schemaToString(schema: StructType): string {
  return JSON.stringify(schema);
}
