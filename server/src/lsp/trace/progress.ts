/**
 * Work-done progress (`window/workDoneProgress/create` + `$/progress` begin/report/end) while a big trace is
 * analysed. Only when the client declared `window.workDoneProgress` (vscode-languageserver's
 * `createWorkDoneProgress` answers a silent reporter otherwise, without a request) and only for documents of at
 * least LOAD_PROGRESS_BYTES: small traces load in a blink and stay quiet.
 */
import type { WorkDoneProgressReporter } from 'vscode-languageserver';
import type { ServerContext } from '../languages';

/** At most one `report` per this many ms (each message costs the event loop a turn to write). */
const REPORT_EVERY_MS = 250;

/** Traces from this size (UTF-16 units of the text, about bytes for strace output) report progress. */
export const LOAD_PROGRESS_BYTES = 1024 * 1024;

/**
 * One load's progress. `report` may be called at any rate: it sends a `report` only when the whole percentage
 * changed and REPORT_EVERY_MS passed since the last one. The client's answer to the create request is not waited for: reports before it are dropped, and a
 * load that ends before it still gets its begin and end.
 */
export class LoadProgress {
  private reporter: WorkDoneProgressReporter | undefined;
  private ended: string | undefined;
  private percent = 0;
  private sent = -1;
  private sentAt = 0;

  constructor(ctx: ServerContext, private readonly title: string, private readonly message: string) {
    let created: Promise<WorkDoneProgressReporter>;
    try {
      created = ctx.connection.window.createWorkDoneProgress();
    } catch {
      return;
    }
    created.then(
      (r) => {
        this.reporter = r;
        r.begin(this.title, this.percent, this.message, false);
        this.sent = this.percent;
        if (this.ended !== undefined) r.done();
      },
      () => undefined, // the client refused the token: no progress, the load goes on
    );
  }

  report(done: number, total: number): void {
    if (this.ended !== undefined || total <= 0) return;
    this.percent = Math.max(0, Math.min(100, Math.floor((done * 100) / total)));
    if (!this.reporter || this.percent === this.sent) return;
    const now = Date.now();
    if (now - this.sentAt < REPORT_EVERY_MS) return;
    this.sent = this.percent;
    this.sentAt = now;
    this.reporter.report(this.percent, `${this.message} (${this.percent}%)`);
  }

  /** The load finished, failed or was cancelled: end the progress (once). */
  end(why = 'done'): void {
    if (this.ended !== undefined) return;
    this.ended = why;
    this.reporter?.done();
  }
}

/** A LoadProgress for a document's load when it is big enough, else undefined. */
export function loadProgressFor(ctx: ServerContext, uri: string, chars: number): LoadProgress | undefined {
  if (chars < LOAD_PROGRESS_BYTES) return undefined;
  const base = uri.replace(/^.*\//, '');
  let name = base;
  try {
    name = decodeURIComponent(base);
  } catch {
    /* keep it encoded */
  }
  return new LoadProgress(ctx, 'KVM Lens: analysing trace', name);
}
