// Audit records packed for the trip to the audit worker. Posting an array of record objects costs
// the server's event loop a structured clone of every object and key (about 10 µs a record on a
// busy machine: a 10 ms stall a second at 1,000 requests a second, which is what p99 sees). So
// the event loop writes each record's numbers into a Float64Array and its strings as indices into
// a small dictionary (names, operations, addresses and user agents repeat), and posts typed arrays
// and the dictionary; the worker builds the rows back.
import type { AccessRecord } from "./audit-table.js";

const NUMBERS = [
  "time",
  "version",
  "startingVersion",
  "endingVersion",
  "files",
  "bytes",
  "status",
  "durationMs",
] as const;
const STRINGS = [
  "requestId",
  "recipient",
  "recipientId",
  "operation",
  "method",
  "share",
  "schema",
  "table",
  "timestamp",
  "startingTimestamp",
  "endingTimestamp",
  "errorCode",
  "clientAddress",
  "userAgent",
] as const;
const NUMBER_FIELDS = NUMBERS.length;
const STRING_FIELDS = STRINGS.length;

/** A chunk of packed records: plain data, cloned cheaply by postMessage. */
export interface PackedRecords {
  count: number;
  /** `count × 8` numbers in NUMBERS order; NaN stands for null. */
  numbers: Float64Array;
  /** `count × 14` indices into `dictionary` in STRINGS order; -1 stands for null. */
  strings: Int32Array;
  dictionary: string[];
}

/** Packs records into one chunk of at most `capacity`. */
export class RecordPacker {
  private numbers: Float64Array;
  private strings: Int32Array;
  private dictionary: string[] = [];
  private ids = new Map<string, number>();
  count = 0;

  constructor(readonly capacity: number) {
    this.numbers = new Float64Array(capacity * NUMBER_FIELDS);
    this.strings = new Int32Array(capacity * STRING_FIELDS);
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  add(r: AccessRecord): void {
    const n = this.count * NUMBER_FIELDS;
    const numbers = this.numbers;
    numbers[n] = r.time;
    numbers[n + 1] = r.version ?? Number.NaN;
    numbers[n + 2] = r.startingVersion ?? Number.NaN;
    numbers[n + 3] = r.endingVersion ?? Number.NaN;
    numbers[n + 4] = r.files;
    numbers[n + 5] = r.bytes;
    numbers[n + 6] = r.status;
    numbers[n + 7] = r.durationMs;
    const s = this.count * STRING_FIELDS;
    const strings = this.strings;
    // The request id is unique: it goes to the dictionary without a lookup.
    strings[s] = this.dictionary.push(r.requestId) - 1;
    strings[s + 1] = this.id(r.recipient);
    strings[s + 2] = this.id(r.recipientId);
    strings[s + 3] = this.id(r.operation);
    strings[s + 4] = this.id(r.method);
    strings[s + 5] = this.id(r.share);
    strings[s + 6] = this.id(r.schema);
    strings[s + 7] = this.id(r.table);
    strings[s + 8] = this.id(r.timestamp);
    strings[s + 9] = this.id(r.startingTimestamp);
    strings[s + 10] = this.id(r.endingTimestamp);
    strings[s + 11] = this.id(r.errorCode);
    strings[s + 12] = this.id(r.clientAddress);
    strings[s + 13] = this.id(r.userAgent);
    this.count++;
  }

  /** The chunk so far (the packer is left empty). */
  take(): PackedRecords {
    const packed: PackedRecords = {
      count: this.count,
      numbers: this.numbers.subarray(0, this.count * NUMBER_FIELDS),
      strings: this.strings.subarray(0, this.count * STRING_FIELDS),
      dictionary: this.dictionary,
    };
    this.numbers = new Float64Array(this.capacity * NUMBER_FIELDS);
    this.strings = new Int32Array(this.capacity * STRING_FIELDS);
    this.dictionary = [];
    this.ids = new Map();
    this.count = 0;
    return packed;
  }

  private id(value: string | null): number {
    if (value === null) return -1;
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.dictionary.push(value) - 1;
      this.ids.set(value, id);
    }
    return id;
  }
}

/** The records of packed chunks, as the audit table takes them. */
export function unpackRecords(chunks: PackedRecords[]): AccessRecord[] {
  const records: AccessRecord[] = [];
  for (const chunk of chunks) {
    const { numbers, strings, dictionary } = chunk;
    const text = (i: number): string | null => (i < 0 ? null : dictionary[i]!);
    const long = (x: number): number | null => (Number.isNaN(x) ? null : x);
    for (let row = 0; row < chunk.count; row++) {
      const n = row * NUMBER_FIELDS;
      const s = row * STRING_FIELDS;
      records.push({
        time: numbers[n]!,
        requestId: text(strings[s]!)!,
        recipient: text(strings[s + 1]!),
        recipientId: text(strings[s + 2]!),
        operation: text(strings[s + 3]!)!,
        method: text(strings[s + 4]!)!,
        share: text(strings[s + 5]!),
        schema: text(strings[s + 6]!),
        table: text(strings[s + 7]!),
        version: long(numbers[n + 1]!),
        timestamp: text(strings[s + 8]!),
        startingVersion: long(numbers[n + 2]!),
        endingVersion: long(numbers[n + 3]!),
        startingTimestamp: text(strings[s + 9]!),
        endingTimestamp: text(strings[s + 10]!),
        files: numbers[n + 4]!,
        bytes: numbers[n + 5]!,
        status: numbers[n + 6]!,
        errorCode: text(strings[s + 11]!),
        clientAddress: text(strings[s + 12]!),
        userAgent: text(strings[s + 13]!),
        durationMs: numbers[n + 7]!,
      });
    }
  }
  return records;
}
