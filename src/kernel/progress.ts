// One progress display per %arcuate statement run, updated in place (Jupyter's display_id and
// update_display_data), never a growing list of lines. Updates are throttled: a long import
// emits thousands of events, a notebook needs a few per second.
import { randomBytes } from "node:crypto";
import { type DisplayBundle, progressBundle, progressDoneBundle, progressText } from "./display.js";
import type { ProgressEvent } from "./language.js";

export type WriteDisplay = (bundle: DisplayBundle, update: boolean) => void;

const MIN_INTERVAL_MS = 250;
/** Statements quicker than this show their result only, no progress line. */
const SHOW_AFTER_MS = 400;

export class ProgressDisplay {
  private readonly id = `arcuate-progress-${randomBytes(8).toString("hex")}`;
  private shown = false;
  private lastWrite = 0;
  private lastStep: string | undefined;
  private pending: ProgressEvent | undefined;
  private timer: NodeJS.Timeout | undefined;
  private last: ProgressEvent | undefined;
  private readonly started = Date.now();

  constructor(private readonly write: WriteDisplay) {}

  update(event: ProgressEvent): void {
    this.last = event;
    const now = Date.now();
    if (!this.shown && now - this.started < SHOW_AFTER_MS) {
      this.pending = event;
      this.timer ??= setTimeout(() => this.flushPending(), SHOW_AFTER_MS - (now - this.started));
      return;
    }
    // A new step, or the end of one, is always shown at once; counts in between are throttled.
    const urgent =
      !this.shown ||
      event.step !== this.lastStep ||
      (event.total !== undefined && event.done === event.total);
    if (urgent || now - this.lastWrite >= MIN_INTERVAL_MS) {
      this.flush(event);
      return;
    }
    this.pending = event;
    this.timer ??= setTimeout(() => this.flushPending(), MIN_INTERVAL_MS - (now - this.lastWrite));
  }

  private flushPending(): void {
    this.timer = undefined;
    if (this.pending !== undefined) this.flush(this.pending);
  }

  /** Replaces the progress line with a one-line summary; nothing if no progress was ever shown. */
  finish(ok: boolean): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    if (!this.shown || this.last === undefined) return;
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    const summary = ok
      ? `✓ ${this.last.step}: done in ${seconds} s`
      : `✗ stopped after ${seconds} s at ${progressText(this.last)}`;
    this.write(progressDoneBundle(summary, this.id), true);
  }

  private flush(event: ProgressEvent): void {
    this.pending = undefined;
    this.write(progressBundle(event, this.id), this.shown);
    this.shown = true;
    this.lastWrite = Date.now();
    this.lastStep = event.step;
  }
}
