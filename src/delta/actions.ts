// Wire types of the Delta Lake transaction log, names verbatim from PROTOCOL.md of delta-io/delta
// ("Actions"). These are what `_delta_log/N.json` lines and checkpoint rows hold; the sharing
// server forwards some of them unchanged in its `delta` response format, so they stay raw here.

/** https://github.com/delta-io/delta/blob/master/PROTOCOL.md#protocol-evolution */
export interface ProtocolAction {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

/** https://github.com/delta-io/delta/blob/master/PROTOCOL.md#change-metadata */
export interface MetadataAction {
  id: string;
  name?: string | null;
  description?: string | null;
  format: { provider: string; options: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number | null;
}

/** https://github.com/delta-io/delta/blob/master/PROTOCOL.md#deletion-vector-descriptor-schema */
export interface DeletionVectorDescriptor {
  storageType: string;
  pathOrInlineDv: string;
  offset?: number;
  sizeInBytes: number;
  cardinality: number;
}

/** https://github.com/delta-io/delta/blob/master/PROTOCOL.md#add-file-and-remove-file */
export interface AddAction {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: DeletionVectorDescriptor | null;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
}

export interface RemoveAction {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: DeletionVectorDescriptor | null;
}

/** https://github.com/delta-io/delta/blob/master/PROTOCOL.md#add-cdc-file */
export interface CdcAction {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  dataChange: boolean;
  tags?: Record<string, string> | null;
}

/** https://github.com/delta-io/delta/blob/master/PROTOCOL.md#commit-provenance-information */
export interface CommitInfoAction {
  timestamp?: number;
  inCommitTimestamp?: number;
  operation?: string;
  operationParameters?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface TxnAction {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

/** One line of a commit file: exactly one of these keys is set. */
export interface Action {
  protocol?: ProtocolAction;
  metaData?: MetadataAction;
  add?: AddAction;
  remove?: RemoveAction;
  cdc?: CdcAction;
  commitInfo?: CommitInfoAction;
  txn?: TxnAction;
  domainMetadata?: { domain: string; configuration: string; removed: boolean };
  checkpointMetadata?: Record<string, unknown>;
  sidecar?: { path: string; sizeInBytes: number; modificationTime: number; tags?: Record<string, string> };
}
