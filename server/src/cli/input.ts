/**
 * A trace named on the command line that is not a regular file: a pipe (`strace -o >(kvm-lens check /dev/stdin)`,
 * `... | kvm-lens replay -`), a terminal, a character device or a socket; and `-`, standard input, whatever it is.
 *
 * The one reading of `replay` and `check` (analysis/traceCheck.ts) may have to read a trace's start again (when
 * the inferred profile moves after the events it keeps), and the worker thread of the reading
 * (analysis/parallelRead.ts) opens the file itself: both need a file that can be read again from its start. Such
 * an input is therefore copied first, in bounded memory, into a temporary file, and the analysis reads the copy;
 * the messages and the output keep the name the user gave (`<stdin>` for `-`).
 *
 * Where the system allows it (Linux: /proc/self/fd), the copy's name is removed as soon as it is made, and the
 * copy is read through its open descriptor: nothing is left behind by Ctrl-C or a full disk. Elsewhere the name
 * is removed when the input is closed, or when the process exits.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The name that stands for standard input. */
export const STDIN_ARG = '-';

/** What messages and output call the trace named `arg` on the command line (`<stdin>` for `-`). */
export function inputName(arg: string): string {
  return arg === STDIN_ARG ? '<stdin>' : arg;
}

export interface TraceInput {
  /** what the analysis opens (the file itself, or the copy) */
  readonly path: string;
  /** what messages and output call it */
  readonly name: string;
  /** bytes copied from a pipe (0 for a regular file) */
  readonly copied: number;
  /** remove the copy, if any */
  close(): void;
}

const COPY_CHUNK = 1 << 20;

/** Sleep without the event loop (the CLI's analysis is synchronous): while a non-blocking input has nothing yet. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAgain(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

/**
 * The descriptor that `-`, /dev/stdin, /dev/fd/N or /proc/self/fd/N name: read from it as it is (opening such a
 * name again fails when it is a socket, as standard input is under some process managers).
 */
function inheritedFd(arg: string): number | null {
  if (arg === STDIN_ARG || arg === '/dev/stdin') return 0;
  const m = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d{1,9})$/.exec(arg);
  return m ? Number(m[1]) : null;
}

/**
 * The trace `arg` as a file that can be read again from its start. Throws (with a message fit for the user) when
 * it does not exist, is a directory, or cannot be read or copied. `progress` is called while a pipe is copied.
 */
export function openTraceInput(arg: string, progress?: (bytes: number) => void): TraceInput {
  let src: number;
  let ownSrc = false;
  const inherited = inheritedFd(arg);
  // `-` is always copied (standard input may be a file read from where the caller left it); a name of an
  // inherited regular file is opened again like any file
  if (inherited !== null && (arg === STDIN_ARG || !fstatSync(inherited).isFile())) src = inherited;
  else {
    const st = statSync(arg);
    if (st.isFile()) return { path: arg, name: arg, copied: 0, close: () => undefined };
    if (st.isDirectory()) throw new Error('is a directory, not a trace file');
    src = openSync(arg, 'r');
    ownSrc = true;
  }
  const name = inputName(arg);
  try {
    const copy = new InputCopy();
    try {
      copy.fill(src, progress);
    } catch (e) {
      copy.close();
      throw new Error(`${(e as Error).message} (while copying the input to a temporary file, to read it again from its start)`);
    }
    return { path: copy.path, name, copied: copy.bytes, close: () => copy.close() };
  } finally {
    if (ownSrc) closeSync(src);
  }
}

/** The temporary copy of an input. */
class InputCopy {
  readonly path: string;
  bytes = 0;
  private fd: number | null;
  private dir: string | null;
  private readonly onExit = () => this.removeName();

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'kvm-lens-input-'));
    const file = join(this.dir, 'trace');
    this.fd = openSync(file, 'wx+', 0o600);
    const viaProc = `/proc/self/fd/${this.fd}`;
    let anonymous = false;
    try {
      anonymous = statSync(viaProc).ino === fstatSync(this.fd).ino;
    } catch {
      anonymous = false;
    }
    if (anonymous) {
      this.removeName();
      this.path = viaProc;
    } else {
      this.path = file;
      process.on('exit', this.onExit);
    }
  }

  /** Copy all of `src` (to its end) into the file. */
  fill(src: number, progress?: (bytes: number) => void): void {
    const buf = Buffer.allocUnsafe(COPY_CHUNK);
    for (;;) {
      let n: number;
      try {
        n = readSync(src, buf, 0, buf.length, null);
      } catch (e) {
        if (isAgain(e)) {
          pause(5);
          continue;
        }
        throw e;
      }
      if (n <= 0) break;
      for (let off = 0; off < n; ) off += writeSync(this.fd!, buf, off, n - off);
      this.bytes += n;
      progress?.(this.bytes);
    }
  }

  private removeName(): void {
    if (this.dir === null) return;
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // a temporary directory that cannot be removed is left to the system's cleaning
    }
    this.dir = null;
  }

  close(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = null;
    }
    this.removeName();
    process.removeListener('exit', this.onExit);
  }
}
