// The kernel's view of the %arcuate language (`src/lang`): the part of its public API the kernel
// calls, and how the kernel loads it. The language is loaded on the first magic cell, not at
// start-up: a kernel whose TypeScript cells never use %arcuate starts as fast as tslab, and a
// language that fails to load turns into an error in the magic cell instead of a dead kernel.
import type { ProgressEvent, SessionOptions, StatementResult } from "../lang/index.js";

export type { ProgressEvent, SessionOptions, StatementResult };

/** What the kernel needs of a language session (`Session` of `src/lang`). */
export interface KernelSession {
  execute(
    text: string,
    options?: { onProgress?: (event: ProgressEvent) => void; signal?: AbortSignal },
  ): Promise<StatementResult[]>;
  complete(
    text: string,
    cursor: number,
  ): Promise<{ matches: string[]; cursorStart: number; cursorEnd: number }>;
  help(topic?: string): string;
}

export type CreateSession = (options: SessionOptions) => KernelSession;

/** Loads `createSession` from the language module. */
export async function loadLanguage(): Promise<CreateSession> {
  const lang = await import("../lang/index.js");
  return lang.createSession;
}
