// A child process for the concurrency and crash tests: appends to a Delta table.
//   append-worker.ts <table> <writer> <commits>          appends <commits> times, 10 rows each
//   append-worker.ts <table> <writer> crash               writes data files, then dies before committing
import * as arrow from "apache-arrow";
import { DeltaTable } from "../../../src/delta/index.js";

const [tablePath, writerArg, what] = process.argv.slice(2);
const writer = Number(writerArg);
const table = await DeltaTable.open(tablePath!);

function rows(seq: number): arrow.Table {
  const ids = Array.from({ length: 10 }, (_, k) => BigInt(writer * 100_000 + seq * 10 + k));
  return new arrow.Table({
    id: arrow.vectorFromArray(ids, new arrow.Int64()),
    writer: arrow.vectorFromArray(
      ids.map(() => writer),
      new arrow.Int32(),
    ),
  });
}

if (what === "crash") {
  await table.write(rows(0), {
    mode: "append",
    // Dies the hard way between writing the data files and committing them.
    beforeCommit: () => {
      process.kill(process.pid, "SIGKILL");
      return new Promise(() => undefined);
    },
  });
} else {
  for (let seq = 0; seq < Number(what); seq += 1) {
    await table.write(rows(seq), { mode: "append", commitInfo: { arcuateTest: { writer, seq } } });
  }
}
