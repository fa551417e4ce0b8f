// Pointing at a place in a script: line/column from an offset, and the excerpt with a caret
// line that every positioned error of the language ends with.

export interface Position {
  line: number;
  column: number;
}

/** The 1-based line and column of a string offset (columns count UTF-16 units, as editors do). */
export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    const char = text.charCodeAt(i);
    if (char === 10 || (char === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

// Lines longer than this are shown as a window around the column, so a caret stays readable.
const WINDOW = 100;

/**
 * The source line at `position` with carets under `length` characters from its column:
 *
 *     2 | CREATE SHARE s WITH EXPERIMNT 'x'
 *       |                     ^^^^^^^^^
 */
export function excerpt(text: string, position: Position, length = 1): string {
  const line = text.split(/\r\n|\r|\n/)[position.line - 1] ?? "";
  let start = 0;
  let shown = line;
  let prefix = "";
  if (line.length > WINDOW) {
    start = Math.max(0, Math.min(position.column - 1 - WINDOW / 2, line.length - WINDOW));
    shown = line.slice(start, start + WINDOW);
    prefix = start > 0 ? "…" : "";
    if (start + WINDOW < line.length) shown += "…";
  }
  // Control characters and U+2028/U+2029 (line breaks to many editors and terminals) would bend
  // the excerpt out of shape: each is shown as one U+FFFD, so the caret still lands under it.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: controls are exactly what is replaced
  shown = shown.replace(/[\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]/g, "\ufffd");
  const caretAt = position.column - 1 - start;
  const width = Math.max(1, Math.min(length, shown.length - caretAt));
  // Keep tabs in the caret line where the source has them, so the caret lands under the token.
  const lead = [...shown.slice(0, caretAt)].map((char) => (char === "\t" ? "\t" : " ")).join("");
  const gutter = String(position.line);
  const blank = " ".repeat(gutter.length);
  return `  ${gutter} | ${prefix}${shown}\n  ${blank} | ${" ".repeat(prefix.length)}${lead}${"^".repeat(width)}`;
}
