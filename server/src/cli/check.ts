/**
 * `kvm-lens check FILES... [--format text|json|sarif]`: every diagnostic of the given traces (reader
 * findings, pre-fault checks, replay mismatches) and api.rst files, without an editor.
 *
 * Traces are streamed (bounded memory); api.rst files go to the doc checker of server/src/analysis when one
 * is there. Exit status: 0 no error-level finding, 1 at least one, 2 usage or I/O error (wins over 1).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding } from '../common/findings';
import { checkTraceFile } from '../analysis/traceCheck';
import { profileSettingsFrom } from '../analysis/replay';
import { checkApiDoc } from '../analysis/docChecks';
import { readApiDoc } from '../rst/apiDoc';
import { inputName, openTraceInput } from './input';
import { formatText, parseArgs, showCopyProgress, showProgress, writeAllSync, toJson, writeSarif, type CheckFormat, type FileFinding } from './format';

const USAGE = `usage: kvm-lens check FILES... [--format text|json|sarif] [--kernel V] [--arch A] [--tdp on|off|auto] [--host-pages 4k|thp|2m|1g|auto]
  text:  file:line:col: severity: message [CODE]   (one line per finding)
  json:  {"findings": [...], "summary": {...}}
  sarif: SARIF 2.1.0
exit status: 0 no error, 1 an error-level finding, 2 usage or I/O error
`;

const VERSION = '0.1.0';

/** A doc checker for .rst files: the api.rst checks of server/src/analysis/docChecks.ts (RST1xx/RST2xx). */
type DocChecker = (text: string, file: string) => Finding[];

async function docChecker(): Promise<DocChecker | undefined> {
  return (text) => checkApiDoc(readApiDoc(text));
}

export async function check(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['--format', '--kernel', '--arch', '--tdp', '--host-pages'], ['--help', '-h']);
  if (args.flags.has('--help') || args.flags.has('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.error) {
    process.stderr.write(`kvm-lens check: ${args.error}\n${USAGE}`);
    return 2;
  }
  const format = (args.options.get('--format') ?? 'text') as CheckFormat;
  if (!['text', 'json', 'sarif'].includes(format)) {
    process.stderr.write(`kvm-lens check: --format must be text, json or sarif (not '${format}')\n`);
    return 2;
  }
  if (!args.positional.length) {
    process.stderr.write(`kvm-lens check: no files given\n${USAGE}`);
    return 2;
  }
  const replay = {
    kernel: args.options.get('--kernel'),
    arch: args.options.get('--arch'),
    tdp: args.options.get('--tdp'),
    hostPages: args.options.get('--host-pages'),
  };
  const bad = profileSettingsFrom(replay).errors;
  if (bad.length) {
    process.stderr.write(`kvm-lens check: ${bad.join('; ')}\n`);
    return 2;
  }
  let ioError = false;
  let errors = 0;
  const all: FileFinding[] = [];
  const counts = { error: 0, warning: 0, information: 0, hint: 0 };
  // text lines and JSON findings go out in pieces of about 64 KiB (a write per line cost a system call per
  // finding), written before anything else goes to stderr, so that both keep their order on a terminal
  let pending = '';
  let jsonCount = 0;
  const flushText = () => {
    if (pending) writeAllSync(1, pending);
    pending = '';
  };
  const emit = (f: FileFinding) => {
    counts[f.severity]++;
    if (f.severity === 'error') errors++;
    if (format === 'text') pending += formatText(f) + '\n';
    else if (format === 'json') {
      // JSON.stringify(..., null, 2) of the whole output, written finding by finding: an element of "findings"
      // sits two levels deep (strings in JSON hold no raw newline, so indenting after each newline is exact)
      pending += (jsonCount++ ? ',\n    ' : '{\n  "findings": [\n    ') + JSON.stringify(toJson(f), null, 2).replace(/\n/g, '\n    ');
    } else all.push(f);
    if (pending.length > 1 << 16) flushText();
  };
  let rst: DocChecker | undefined | null = null;
  const progress = process.stderr.isTTY && format === 'text';
  for (const file of args.positional) {
    const name = inputName(file);
    flushText();
    if (/\.rst$/i.test(file)) {
      if (rst === null) rst = await docChecker();
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        process.stderr.write(`kvm-lens check: ${file}: ${(e as NodeJS.ErrnoException).message}\n`);
        ioError = true;
        continue;
      }
      if (!rst) {
        process.stderr.write(`kvm-lens check: ${file}: no api.rst checker in this build; skipped\n`);
        continue;
      }
      try {
        for (const f of rst(text, file)) emit({ ...f, file });
      } catch (e) {
        flushText();
        process.stderr.write(`kvm-lens check: ${file}: the api.rst checker failed: ${(e as Error).message}\n`);
        ioError = true;
      }
      continue;
    }
    try {
      // findings of one file are few next to its events: hold them to print them in line order (ties in the
      // order checkTraceFile gives)
      const held: FileFinding[] = [];
      const order: number[] = [];
      // a pipe or `-` is copied to a temporary file first: the one reading may read the trace's start again
      const input = openTraceInput(file, progress ? (n) => showCopyProgress(name, n) : undefined);
      try {
        checkTraceFile(input.path, { replay }, (f, o) => {
          order.push(o);
          held.push({ ...f, file: name });
        }, progress ? (p) => showProgress(name, p.bytes, p.total, 'checks') : undefined);
      } finally {
        input.close();
      }
      if (progress) process.stderr.write('\r\x1b[K');
      const idx = held.map((_, i) => i);
      idx.sort((a, b) => {
        const x = held[a]!.range.start;
        const y = held[b]!.range.start;
        return x.line - y.line || x.character - y.character || order[a]! - order[b]!;
      });
      for (const i of idx) emit(held[i]!);
    } catch (e) {
      flushText();
      if (progress) process.stderr.write('\r\x1b[K');
      process.stderr.write(`kvm-lens check: ${name}: ${(e as NodeJS.ErrnoException).message}\n`);
      ioError = true;
    }
  }
  flushText();
  if (format === 'json') {
    // the findings went out as they were emitted: the whole text in one string would fail beyond V8's longest
    // string (2^29 characters: about 5x10^6 lines of a capture trace) and held it twice
    const summary = JSON.stringify({ files: args.positional.length, ...counts }, null, 2).replace(/\n/g, '\n  ');
    writeAllSync(1, (jsonCount ? '\n  ],' : '{\n  "findings": [],') + '\n  "summary": ' + summary + '\n}\n');
  } else if (format === 'sarif') {
    writeSarif(all, (f) => pathToFileURL(resolve(f)).toString(), VERSION, (t) => writeAllSync(1, t));
  }
  if (ioError) return 2;
  return errors > 0 ? 1 : 0;
}
