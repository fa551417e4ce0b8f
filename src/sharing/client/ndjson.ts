// Newline-delimited JSON, read as the body streams in: one line at a time, never the whole body
// in memory (a query over a table of many files answers with one line per file).

/** Yields the non-empty lines of a byte stream, decoded as UTF-8; `\r\n` counts as `\n`. */
export async function* ndjsonLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending = "";
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = pending.indexOf("\n", start); nl >= 0; nl = pending.indexOf("\n", start)) {
      const line = trimLine(pending.slice(start, nl));
      start = nl + 1;
      if (line.length > 0) yield line;
    }
    pending = pending.slice(start);
  }
  pending += decoder.decode();
  const last = trimLine(pending);
  if (last.length > 0) yield last;
}

function trimLine(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1).trim() : line.trim();
}
