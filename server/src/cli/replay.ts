/**
 * `kvm-lens replay FILE [--format text|json] [--kernel 6.18] [--arch x86_64] [--tdp on|off|auto]
 *  [--host-pages 4k|thp|2m|1g|auto]`: replay a trace through the KVM model, one line (or JSON object) per KVM
 * call with the recorded and expected results and a verdict.
 *
 * Streams: the file is read once in chunks, the profile inferred while the replay runs (the calls wait in a
 * temporary file until the header is written; see analysis/traceCheck.ts replayFileOnce); the output is written
 * call by call, so a trace of any size replays in bounded memory. On a terminal, a progress line goes to stderr.
 * Exit status: 0 no mismatch, 1 at least one mismatch, 2 usage or I/O error.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeProfile } from '../emulator/index';
import { formatResult, type ReplayedCall, type ReplayOptions, type ResultView } from '../analysis/replay';
import type { Finding } from '../common/findings';
import { replayFileOnce, type FileProfile, type ReplaySummary } from '../analysis/traceCheck';
import { parseArgs, showCopyProgress, showProgress, writeAllSync } from './format';
import { inputName, openTraceInput, type TraceInput } from './input';

const USAGE = `usage: kvm-lens replay FILE [--format text|json] [--kernel 6.18] [--arch x86_64] [--tdp on|off|auto] [--host-pages 4k|thp|2m|1g|auto]
  Each option defaults to auto: inferred from the recorded results where they show it, else assumed.
  FILE may be a pipe, /dev/stdin or - (standard input).
exit status: 0 every call matches or is unknown, 1 a mismatch, 2 usage or I/O error
`;

function profileJson(fp: FileProfile): Record<string, unknown> {
  const p = fp.profile;
  return {
    kernel: p.kernel,
    arch: p.arch,
    tdp: p.tdp ? 'on' : 'off',
    hostPages: p.host,
    gib1: p.gib1,
    archPrefault: p.archPrefault,
    source: p.source,
    summary: describeProfile(p),
    inferred: fp.reasons,
  };
}

function resultJson(r: ResultView): Record<string, unknown> {
  return { ret: r.ret, errno: r.errno, after: r.after };
}

export function callJson(r: ReplayedCall): Record<string, unknown> {
  return {
    line: r.line + 1,
    pid: r.pid,
    fd: r.fd,
    fdKind: r.fdKind,
    request: r.request,
    args: r.args,
    recorded: resultJson(r.recorded),
    expected: r.expected ? resultJson(r.expected) : null,
    verdict: r.verdict,
    why: r.explanations?.length ? `${r.why} Would match with: ${r.explanations.join('; ')}.` : r.why,
  };
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function callText(r: ReplayedCall): string {
  const where = `${r.pid !== null ? `[${r.pid}] ` : ''}fd ${r.fd ?? '-'} (${r.fdKind})`;
  const possible = r.verdict === 'match' && r.modelVerdict === 'possible';
  const mark = possible ? 'match (possible)' : r.verdict === 'match' ? 'match' : r.verdict === 'mismatch' ? 'MISMATCH' : 'unknown';
  // the expected struct as far as the recorded one shows it (gpa and size for pre-fault); JSON has all of it
  const keys = r.recorded.after ? Object.keys(r.recorded.after) : ['gpa', 'size'];
  const exp = r.expected && r.expected.after
    ? { ...r.expected, after: Object.fromEntries(Object.entries(r.expected.after).filter(([k]) => keys.includes(k))) }
    : r.expected;
  let s = `${pad(String(r.line + 1), 6)} ${pad(where, 20)} ${pad(r.request, 28)} recorded ${pad(formatResult(r.recorded), 44)} expected ${pad(exp ? formatResult(exp) : 'unknown', 44)} ${mark}`;
  if (r.verdict !== 'match' || possible) s += `: ${r.why}`;
  if (r.explanations?.length) s += ` Would match with: ${r.explanations.join('; ')}.`;
  return s;
}

export async function replay(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['--format', '--kernel', '--arch', '--tdp', '--host-pages'], ['--help', '-h']);
  if (args.flags.has('--help') || args.flags.has('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.error) {
    process.stderr.write(`kvm-lens replay: ${args.error}\n${USAGE}`);
    return 2;
  }
  const format = args.options.get('--format') ?? 'text';
  if (format !== 'text' && format !== 'json') {
    process.stderr.write(`kvm-lens replay: --format must be text or json (not '${format}')\n`);
    return 2;
  }
  if (args.positional.length !== 1) {
    process.stderr.write(`kvm-lens replay: give exactly one trace file\n${USAGE}`);
    return 2;
  }
  const arg = args.positional[0]!;
  const replayOpts = {
    kernel: args.options.get('--kernel'),
    arch: args.options.get('--arch'),
    tdp: args.options.get('--tdp'),
    hostPages: args.options.get('--host-pages'),
  };
  const tty = process.stderr.isTTY;
  // a pipe or `-` is copied to a temporary file first: the one reading may read the trace's start again
  let input: TraceInput;
  try {
    input = openTraceInput(arg, tty ? (n) => showCopyProgress(inputName(arg), n) : undefined);
  } catch (e) {
    if (tty) process.stderr.write('\r\x1b[K');
    process.stderr.write(`kvm-lens replay: ${inputName(arg)}: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    return replayInput(input, format, replayOpts, tty);
  } finally {
    input.close();
  }
}

function replayInput(input: TraceInput, format: string, replayOpts: ReplayOptions, tty: boolean): number {
  const file = input.name;
  const clearProgress = () => {
    if (tty) process.stderr.write('\r\x1b[K');
  };
  // output is buffered in pieces and written synchronously as it goes (the replay loop never yields to the
  // event loop, so an async stream would queue the whole output in memory): memory stays bounded
  let buf = '';
  const out = { write: (s: string) => writeAllSync(1, s) };
  const write = (s: string) => {
    buf += s;
    if (buf.length > 1 << 16) {
      out.write(buf);
      buf = '';
    }
  };
  /** the text of each call of one replay (a fresh one per replay: JSON separates calls from the second on) */
  const lines = (): ((r: ReplayedCall) => string) => {
    if (format !== 'json') return (r) => callText(r) + '\n';
    let first = true;
    return (r) => {
      const s = (first ? '\n' : ',\n') + JSON.stringify(callJson(r));
      first = false;
      return s;
    };
  };
  const header = (fp: FileProfile) => {
    if (format === 'json') write(`{"file":${JSON.stringify(file)},"profile":${JSON.stringify(profileJson(fp))},"calls":[`);
    else {
      write(`${file}: replay with ${describeProfile(fp.profile)}\n`);
      for (const r of fp.reasons) write(`  inferred: ${r}\n`);
      for (const c of fp.conflicts) write(`  conflict: ${c}\n`);
    }
  };
  const footer = (summary: ReplaySummary) => {
    if (format === 'json') write(`\n],"summary":${JSON.stringify(summary)}}\n`);
    else write(`${summary.calls} KVM calls: ${summary.match} match, ${summary.mismatch} mismatch, ${summary.unknown} unknown\n`);
  };
  // One reading (replayFileOnce): the calls go to a spool file while the profile is inferred, and follow the
  // header once it is known; when the inferred profile moves, the replay starts over and so does the spool.
  let spool: Spool | undefined;
  /** the reader's binary-data finding: the replay says so on stderr (it replays what text there is) */
  let binary: Finding | undefined;
  let summary: ReplaySummary | null;
  let fp: FileProfile;
  try {
    spool = new Spool();
    let line = lines();
    const once = replayFileOnce(input.path, { replay: replayOpts }, {
      call: (r: ReplayedCall) => spool!.write(line(r)),
      restart: () => {
        spool!.reset();
        line = lines();
      },
    }, tty ? (p) => showProgress(file, p.bytes, p.total, 'replay') : undefined, (f) => {
      if (f.code === 'TRC104') binary ??= f;
    });
    fp = once.fp;
    summary = once.summary;
  } catch (e) {
    spool?.close();
    clearProgress();
    process.stderr.write(`kvm-lens replay: ${file}: ${(e as Error).message}\n`);
    return 2;
  }
  if (!summary) {
    spool.close();
    clearProgress();
    process.stderr.write(`kvm-lens replay: ${fp.settingErrors.join('; ')}\n`);
    return 2;
  }
  try {
    header(fp);
    out.write(buf);
    buf = '';
    spool.copyTo(1);
    footer(summary);
  } catch (e) {
    out.write(buf);
    clearProgress();
    process.stderr.write(`kvm-lens replay: ${file}: ${(e as Error).message}\n`);
    return 2;
  } finally {
    spool.close();
  }
  clearProgress();
  out.write(buf);
  if (binary) {
    const at = binary.range.start;
    process.stderr.write(`kvm-lens replay: ${file}:${at.line + 1}:${at.character + 1}: ${binary.message} [${binary.code}]; the lines that are text were replayed (\`kvm-lens check\` lists what was not read)\n`);
  }
  return summary.mismatch > 0 ? 1 : 0;
}

/** Output held in memory until the header is written, at most (beyond, it goes to a temporary file). */
const SPOOL_MEMORY = 4 << 20;

/**
 * Where the replay's output waits until its header is known: in memory (UTF-8 pieces) up to `SPOOL_MEMORY`
 * bytes, then in a temporary file. (Measured on 43 MB of JSON, the 10^6-line QEMU trace's: in memory 50-70 ms of
 * CPU and +40 MB of RSS, through the file about 20 ms more: the file it is, beyond small outputs.) The file's
 * name is removed at once where the system allows it (the open descriptor keeps the data), so that nothing is
 * left behind by Ctrl-C or a closed pipe (`| head` ends the process in writeAllSync); elsewhere it is removed
 * when closed.
 */
export class Spool {
  private dir: string | undefined;
  private fd: number | null = null;
  private removed = false;
  private buf = '';
  /** the pieces held in memory (none once the file is used) */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** bytes in the file */
  private size = 0;

  constructor(private readonly memory = SPOOL_MEMORY) {}

  /** Whether the output went to a temporary file. */
  get spilled(): boolean {
    return this.fd !== null;
  }

  /** Drop everything written so far (the replay starts over). */
  reset(): void {
    this.buf = '';
    this.held = [];
    this.heldBytes = 0;
    this.size = 0;
  }

  write(s: string): void {
    this.buf += s;
    if (this.buf.length > 1 << 16) this.flush();
  }

  private flush(): void {
    if (!this.buf) return;
    const b = Buffer.from(this.buf, 'utf8');
    this.buf = '';
    if (this.fd === null && this.heldBytes + b.length <= this.memory) {
      this.held.push(b);
      this.heldBytes += b.length;
      return;
    }
    const fd = this.file();
    for (const h of this.held) this.toFile(fd, h);
    this.held = [];
    this.heldBytes = 0;
    this.toFile(fd, b);
  }

  private file(): number {
    if (this.fd !== null) return this.fd;
    this.dir = mkdtempSync(join(tmpdir(), 'kvm-lens-replay-'));
    this.fd = openSync(join(this.dir, 'calls'), 'w+');
    try {
      rmSync(this.dir, { recursive: true, force: true });
      this.removed = true;
    } catch {
      /* an open file cannot be removed here (Windows): close() removes it */
    }
    return this.fd;
  }

  private toFile(fd: number, b: Buffer): void {
    for (let off = 0; off < b.length;) off += writeSync(fd, b, off, b.length - off, this.size + off);
    this.size += b.length;
  }

  /** Everything written so far, to `outFd` (from the file in 1 MiB reads). */
  copyTo(outFd: number): void {
    this.flush();
    for (const h of this.held) writeAllSync(outFd, h);
    if (this.fd === null) return;
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; pos < this.size;) {
      // the file can be longer than `size` after a reset
      const n = readSync(this.fd, chunk, 0, Math.min(chunk.length, this.size - pos), pos);
      if (n <= 0) throw new Error('the replay spool file shrank while it was read');
      writeAllSync(outFd, chunk.subarray(0, n));
      pos += n;
    }
  }

  close(): void {
    this.held = [];
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    if (!this.removed && this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
