/**
 * A strict check of the lines the capture library writes (TRACES.md's capture format, strace's syntax),
 * independent of the trace reader, and the trace reader's view of a capture (server/src/trace).
 */
import { resolveRequestText } from '../../server/src/kvm';
import { readTrace } from '../../server/src/trace/reader';

const NUM = String.raw`(?:0|-?[1-9]\d*|0x[0-9a-f]+)`;
const NAME = String.raw`[A-Z][A-Z0-9_]*`;
const FLAGS = String.raw`(?:${NAME}(?:\|${NAME})*(?:\|0x[0-9a-f]+)?)`;
const SCALAR = String.raw`(?:${NUM}|${FLAGS})`;
const ARRAY = String.raw`\[${SCALAR}(?:, ${SCALAR})*\]`;
const FIELD = String.raw`[a-z_][a-z0-9_]*=(?:${SCALAR}(?: /\* ${NAME} \*/)?|${ARRAY})`;
const STRUCT = String.raw`\{(?:${FIELD}(?:, ${FIELD})*)?\}`;
const DECO = String.raw`(?:<[^<>]*(?:<[^<>]*>)?>)`;
const FD = String.raw`\d+`;
const IOC = String.raw`_IOC\((?:_IOC_NONE|_IOC_READ|_IOC_WRITE|_IOC_READ\|_IOC_WRITE), 0x[0-9a-f]+, 0x[0-9a-f]+, 0x[0-9a-f]+\)`;
const ERR = String.raw`-1 (?:E[A-Z0-9_]+|ERRNO_\d+) \([^()]+\)`;

export interface LineShape {
  pid?: boolean;
  /** -y: fds may carry `<path>` decorations (without it they must not) */
  paths?: boolean;
  ttt?: boolean;
  durations?: boolean;
}

function fd(deco: boolean) {
  return deco ? `${FD}${DECO}?` : FD;
}

/** null when the line is a well-formed capture line, else what is wrong with it. */
export function checkCaptureLine(line: string, shape: LineShape = {}): string | null {
  if (line.startsWith('#')) {
    return /^# kvm-lens capture: .+ \(kernel \S+, \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\)$/.test(line) ? null : 'not the capture header';
  }
  const pid = shape.pid ?? true;
  if (pid) {
    const m = /^(\d+(?:<[^<>]*>)?)( +)/.exec(line);
    if (!m) return 'no pid column';
    if (m[1]!.length + m[2]!.length !== Math.max(6, m[1]!.length + 1)) return 'pid column is not `%-5u `';
  }
  const prefix = new RegExp(`^${pid ? String.raw`\d+(?:<[^<>]*>)? +` : ''}${shape.ttt ? String.raw`\d{9,}\.\d{6} ` : ''}`).exec(line);
  if (!prefix) return shape.ttt ? 'no -ttt time' : 'no pid column';
  const call = line.slice(prefix[0].length);
  // strace's tabto(40): `= ` at column 40, or one space after `) ` when the call is longer
  const at = findResultEquals(line);
  if (at < 0) return 'no ` = ` after the call';
  const head = line.slice(0, at).trimEnd();
  const expectAt = Math.max(40, head.length + 1);
  if (at !== expectAt) return `'=' at column ${at}, expected ${expectAt}`;
  const deco = shape.paths ?? false;
  const result = deco ? String.raw`(?:${ERR}|\d+${DECO}?)` : String.raw`(?:${ERR}|\d+)`;
  const tail = String.raw`(?: \(KVM_EXIT_\w+\))?${shape.durations ? String.raw` <\d+\.\d{6}>` : ''}`;
  const pad = String.raw` +`;
  const forms = [
    String.raw`ioctl\(${fd(deco)}, (?:KVM_[A-Z0-9_]+|${IOC}), (?:${STRUCT}(?: => ${STRUCT})?|${NUM}(?: /\* ${NAME} \*/)?|KVM_CAP_[A-Z0-9_]+|0x[0-9a-f]+ /\* KVM_CAP_\?\?\? \*/|NULL)\)${pad}= ${result}${tail}`,
    String.raw`openat\((?:AT_FDCWD|${fd(deco)}), "(?:[^"\\]|\\.)*", ${FLAGS}\)${pad}= ${result}`,
    String.raw`close\(${fd(deco)}\)${pad}= (?:0|${ERR})`,
    String.raw`dup\(${fd(deco)}\)${pad}= ${result}`,
    String.raw`dup2\(${fd(deco)}, ${fd(deco)}\)${pad}= ${result}`,
    String.raw`dup3\(${fd(deco)}, ${fd(deco)}, (?:O_CLOEXEC|0)\)${pad}= ${result}`,
    String.raw`fcntl\(${fd(deco)}, F_DUPFD(?:_CLOEXEC)?, \d+\)${pad}= ${result}`,
    String.raw`close_range\(\d+, \d+, (?:0|0x[0-9a-f]+)\)${pad}= 0`,
  ];
  if (!forms.some((f) => new RegExp(`^${f}$`).test(call))) return 'not of the capture format';
  const req = /^ioctl\([^,]+, (KVM_[A-Z0-9_]+)/.exec(call);
  if (req && !resolveRequestText(req[1]!)?.info) return `unknown request name ${req[1]}`;
  return null;
}

/**
 * Column of the `=` that starts the result: the last `)` followed by spaces and `= `. Struct fields (`slot=0`)
 * and `=>` never match that, and a capture's strings (the /dev/kvm path) hold no `) = `.
 */
function findResultEquals(line: string): number {
  const m = /\) += /g;
  let last = -1;
  for (let r = m.exec(line); r; r = m.exec(line)) last = r.index + r[0].length - 2;
  return last;
}

export interface ReaderView {
  /** findings of the reader at warning or error level (lines it could not read), as `line: [CODE] message` */
  unreadable: string[];
  prefault: { structRecorded: boolean; before?: Record<string, unknown>; after?: Record<string, unknown> }[];
}

/** Read the text with the trace reader (server/src/trace), as `kvm-lens check` and the editor do. */
export async function readWithTraceReader(text: string, fileName: string): Promise<ReaderView> {
  const r = readTrace(text, { fileName });
  const unreadable = r.findings
    .filter((f) => f.severity === 'error' || f.severity === 'warning')
    .map((f) => `${f.range.start.line + 1}: [${f.code}] ${f.message}`);
  const prefault = r.events.flatMap((e) => {
    const call = e.kind === 'syscall' || e.kind === 'qemu' ? e.ioctl : undefined;
    return call && call.info?.name === 'KVM_PRE_FAULT_MEMORY' ? [call] : [];
  });
  return { unreadable, prefault };
}
