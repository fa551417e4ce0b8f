// Routing of notebook cells: which cells are %arcuate statements and which are plain TypeScript.
//
// A cell whose first non-blank line starts with `%%arcuate` is a cell magic: the rest of the cell
// is arcuate text. A cell whose first non-blank line starts with `%arcuate` is a line magic: each
// line starting with `%arcuate` is one piece of arcuate text, and the lines between them are
// TypeScript, run in order (as IPython mixes line magics with Python). `%arcuate?` shows help.
// Every other cell goes to tslab unchanged.
//
// Arcuate text is handed to the language as the WHOLE cell with everything that is not the
// statement blanked out (every character but newlines replaced by a space). Offsets, lines and
// columns the language reports are then those of the cell itself, and a cursor position needs no
// translation for completion. TypeScript parts of a line-magic cell are blanked the same way, so
// tslab's line numbers are the cell's too.

/** One piece of a cell, in execution order. */
export type CellPart =
  | { kind: "arcuate"; text: string; start: number; end: number }
  | { kind: "typescript"; code: string; start: number; end: number };

export type Cell =
  | { kind: "typescript" }
  | { kind: "help"; topic: string | undefined }
  | { kind: "magic"; parts: CellPart[] };

const CELL_MAGIC = "%%arcuate";
const LINE_MAGIC = "%arcuate";

/** Where the magic token on a line ends, if the line (after indentation) starts with `token`. */
function magicEnd(line: string, lineStart: number, token: string): number | undefined {
  const indent = line.length - line.trimStart().length;
  if (!line.startsWith(token, indent)) return undefined;
  const next = line[indent + token.length];
  // `%arcuatefoo` is not ours; `%arcuate?` is help (handled by the caller).
  if (next !== undefined && next !== "?" && !/\s/.test(next)) return undefined;
  return lineStart + indent + token.length;
}

interface Line {
  text: string;
  start: number;
  /** Offset just past the line's text (before its newline). */
  end: number;
}

function splitLines(code: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  for (;;) {
    const newline = code.indexOf("\n", start);
    const end = newline === -1 ? code.length : newline;
    lines.push({ text: code.slice(start, end), start, end });
    if (newline === -1) return lines;
    start = newline + 1;
  }
}

/** `code` with every character outside [start, end) replaced by a space, newlines kept. */
export function blankOutside(code: string, start: number, end: number): string {
  const blank = (s: string) => s.replace(/[^\n]/g, " ");
  return blank(code.slice(0, start)) + code.slice(start, end) + blank(code.slice(end));
}

/** Classifies a cell. Pure; never throws. */
export function classifyCell(code: string): Cell {
  const lines = splitLines(code);
  const first = lines.findIndex((line) => line.text.trim() !== "");
  const head = lines[first];
  if (head === undefined) return { kind: "typescript" };

  const cellEnd = magicEnd(head.text, head.start, CELL_MAGIC);
  if (cellEnd !== undefined) {
    if (code[cellEnd] === "?") return { kind: "help", topic: topicOf(code.slice(cellEnd + 1, head.end)) };
    return {
      kind: "magic",
      parts: [
        { kind: "arcuate", text: blankOutside(code, cellEnd, code.length), start: cellEnd, end: code.length },
      ],
    };
  }

  const lineEnd = magicEnd(head.text, head.start, LINE_MAGIC);
  if (lineEnd === undefined) return { kind: "typescript" };
  if (code[lineEnd] === "?") return { kind: "help", topic: topicOf(code.slice(lineEnd + 1, head.end)) };

  const parts: CellPart[] = [];
  let tsStart: number | undefined;
  const flushTypescript = (end: number) => {
    if (tsStart === undefined) return;
    if (code.slice(tsStart, end).trim() !== "") {
      parts.push({ kind: "typescript", code: blankOutside(code, tsStart, end), start: tsStart, end });
    }
    tsStart = undefined;
  };
  for (const line of lines.slice(first)) {
    const end = magicEnd(line.text, line.start, LINE_MAGIC);
    if (end === undefined) {
      tsStart ??= line.start;
      continue;
    }
    flushTypescript(line.start);
    parts.push({ kind: "arcuate", text: blankOutside(code, end, line.end), start: end, end: line.end });
  }
  flushTypescript(code.length);
  return { kind: "magic", parts };
}

function topicOf(rest: string): string | undefined {
  const topic = rest.trim();
  return topic === "" ? undefined : topic;
}

/** The part of a magic cell that holds `cursor`, for completion and inspection. */
export function partAt(cell: Cell, cursor: number): CellPart | undefined {
  if (cell.kind !== "magic") return undefined;
  // A cursor at the very end of a part (just typed its last character) belongs to it.
  return cell.parts.find((part) => cursor >= part.start && cursor <= part.end);
}
