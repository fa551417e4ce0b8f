// Public surface of src/delta: Delta Lake tables on a small storage interface.
export type {
  Action,
  AddAction,
  CdcAction,
  CommitInfoAction,
  DeletionVectorDescriptor,
  MetadataAction,
  ProtocolAction,
  RemoveAction,
  TxnAction,
} from "./actions.js";
export type { JsonValue } from "./json.js";
export { batchRows, jsonValueAt } from "./json.js";
export { MemoryStorage } from "./memory-storage.js";
export type { ReadFileOptions } from "./parquet.js";
export { readParquetFile } from "./parquet.js";
export {
  readPrefixPolicy,
  type TemporaryCredentials,
  type VendOptions,
  vendReadCredentials,
} from "./s3-credentials.js";
export { formatS3Location, isS3Location, parseS3Location, type S3Location } from "./s3-location.js";
export { S3Presigner, type SigningCredentials } from "./s3-presign.js";
export { S3Storage, type S3StorageOptions } from "./s3-storage.js";
export type { ScanOptions } from "./scan.js";
export type { ArrayType, DataType, MapType, StructField, StructType } from "./schema.js";
export {
  arrowSchemaToDelta,
  deltaSchemaToArrow,
  parseSchemaString,
  schemaToString,
} from "./schema.js";
export { Snapshot } from "./snapshot.js";
export type { FileInfo, Storage } from "./storage.js";
export { LocalStorage, storageForLocation } from "./storage.js";
export type { Commit, CommitSummary, OpenOptions, TimestampInput } from "./table.js";
export { DeltaTable } from "./table.js";
export { MIN_RETENTION_MS, type VacuumOptions, type VacuumResult } from "./vacuum.js";
export type { CreateTableOptions, WriteOptions } from "./writer.js";
