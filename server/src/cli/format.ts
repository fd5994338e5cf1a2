/**
 * Output formats of `kvm-lens check`: gcc-style text, JSON lines of findings, and SARIF 2.1.0.
 * Positions in the output are 1-based (line and column), as compilers and SARIF count them.
 */
import { writeSync } from 'node:fs';
import type { Finding, Severity } from '../common/findings';
import { RULES } from '../common/rules';

export type CheckFormat = 'text' | 'json' | 'sarif';

export interface FileFinding extends Finding {
  file: string;
}

/** `file:line:col: severity: message [CODE]` (gcc's shape; severity `note` for information and hints). */
export function formatText(f: FileFinding): string {
  const sev = f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'note';
  return `${f.file}:${f.range.start.line + 1}:${f.range.start.character + 1}: ${sev}: ${oneLine(f.message)} [${f.code}]`;
}

export function toJson(f: FileFinding): Record<string, unknown> {
  return {
    file: f.file,
    line: f.range.start.line + 1,
    column: f.range.start.character + 1,
    endLine: f.range.end.line + 1,
    endColumn: f.range.end.character + 1,
    severity: f.severity,
    code: f.code,
    message: f.message,
    fixes: (f.fixes ?? []).map((x) => ({
      title: x.title,
      edits: x.edits.map((e) => ({
        line: e.range.start.line + 1,
        column: e.range.start.character + 1,
        endLine: e.range.end.line + 1,
        endColumn: e.range.end.character + 1,
        newText: e.newText,
      })),
    })),
  };
}

export function sarifLevel(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'note';
}

/** A SARIF 2.1.0 log with one run; `uriOf` turns a file argument into an artifact URI. */
export function toSarif(findings: FileFinding[], uriOf: (file: string) => string, version: string): Record<string, unknown> {
  const { log, result } = sarifParts(findings, uriOf, version);
  (log.runs as Record<string, unknown>[])[0]!.results = findings.map(result);
  return log;
}

/**
 * `JSON.stringify(toSarif(findings, uriOf, version), null, 2) + '\n'`, given to `write` in pieces of about 64 KiB
 * (the results one by one: the whole text in one string fails beyond V8's longest string).
 */
export function writeSarif(findings: FileFinding[], uriOf: (file: string) => string, version: string, write: (s: string) => void): void {
  const { log, result } = sarifParts(findings, uriOf, version);
  // the results are the last member of the one run: the log with an empty array, cut there
  (log.runs as Record<string, unknown>[])[0]!.results = [];
  const text = JSON.stringify(log, null, 2);
  const cut = text.lastIndexOf('"results": []');
  let out = text.slice(0, cut) + '"results": [';
  for (let i = 0; i < findings.length; i++) {
    // a result sits four levels deep (strings in JSON hold no raw newline: indenting after each newline is exact)
    out += (i ? ',\n        ' : '\n        ') + JSON.stringify(result(findings[i]!), null, 2).replace(/\n/g, '\n        ');
    if (out.length > 1 << 16) {
      write(out);
      out = '';
    }
  }
  write(out + (findings.length ? '\n      ]' : ']') + text.slice(cut + '"results": []'.length) + '\n');
}

function sarifParts(findings: FileFinding[], uriOf: (file: string) => string, version: string): { log: Record<string, unknown>; result: (f: FileFinding) => Record<string, unknown> } {
  const used = [...new Set(findings.map((f) => f.code))].sort();
  const ruleIndex = new Map(used.map((c, i) => [c, i]));
  const artifacts = [...new Set(findings.map((f) => f.file))];
  const artifactIndex = new Map(artifacts.map((a, i) => [a, i]));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'kvm-lens',
            version,
            informationUri: 'https://github.com/kvm-lens/kvm-lens/blob/main/docs/RULES.md',
            rules: used.map((code) => {
              const r = RULES.get(code);
              return {
                id: code,
                shortDescription: { text: r?.summary ?? code },
                defaultConfiguration: { level: sarifLevel(r?.severity ?? 'warning') },
                helpUri: `https://github.com/kvm-lens/kvm-lens/blob/main/docs/RULES.md#${code.slice(0, 3).toLowerCase()}`,
              };
            }),
          },
        },
        // columns are counted as LSP counts them
        columnKind: 'utf16CodeUnits',
        artifacts: artifacts.map((a) => ({ location: { uri: uriOf(a) } })),
        results: [] as Record<string, unknown>[],
      },
    ],
  };
  const result = (f: FileFinding): Record<string, unknown> => {
    const result: Record<string, unknown> = {
      ruleId: f.code,
      ruleIndex: ruleIndex.get(f.code),
      level: sarifLevel(f.severity),
      message: { text: f.message },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: uriOf(f.file), index: artifactIndex.get(f.file) },
            region: {
              startLine: f.range.start.line + 1,
              startColumn: f.range.start.character + 1,
              endLine: f.range.end.line + 1,
              endColumn: f.range.end.character + 1,
            },
          },
        },
      ],
    };
    if (f.fixes?.length) {
      result.fixes = f.fixes.map((x) => ({
        description: { text: x.title },
        artifactChanges: [
          {
            artifactLocation: { uri: uriOf(f.file), index: artifactIndex.get(f.file) },
            replacements: x.edits.map((e) => ({
              deletedRegion: {
                startLine: e.range.start.line + 1,
                startColumn: e.range.start.character + 1,
                endLine: e.range.end.line + 1,
                endColumn: e.range.end.character + 1,
              },
              insertedContent: { text: e.newText },
            })),
          },
        ],
      }));
    }
    return result;
  };
  return { log, result };
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

/** Parse `--name value` / `--name=value` options; the rest are positional. Unknown options are errors. */
export interface ParsedArgs {
  options: Map<string, string>;
  flags: Set<string>;
  positional: string[];
  error?: string;
}

export function parseArgs(argv: string[], valued: string[], boolean: string[] = []): ParsedArgs {
  const options = new Map<string, string>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') || (a.startsWith('-') && a.length === 2)) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (boolean.includes(name)) {
        if (eq > 0) return { options, flags, positional, error: `option ${name} takes no value` };
        flags.add(name);
        continue;
      }
      if (!valued.includes(name)) return { options, flags, positional, error: `unknown option ${name}` };
      const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) return { options, flags, positional, error: `option ${name} needs a value` };
      options.set(name, value);
      continue;
    }
    positional.push(a);
  }
  return { options, flags, positional };
}

/** Write a whole string to an fd, waiting while a non-blocking pipe is full (EAGAIN). */
export function writeAllSync(fd: number, s: string | Uint8Array): void {
  let b = typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s.buffer, s.byteOffset, s.byteLength);
  const wait = new Int32Array(new SharedArrayBuffer(4));
  while (b.length) {
    try {
      const n = writeSync(fd, b);
      b = b.subarray(n);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // the reader of our output went away (`| head`): stop quietly, as command-line tools do
      if (code === 'EPIPE') process.exit(process.exitCode ?? 0);
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(wait, 0, 0, 5);
    }
  }
}

/** A progress line on stderr (callers only pass this when stderr is a terminal), at most 5 times a second. */
let lastProgress = 0;
/** The progress line while a pipe is copied to a temporary file (its size is not known). */
export function showCopyProgress(file: string, bytes: number): void {
  process.stderr.write(`\r\x1b[K${file}: reading ${(bytes / 1048576).toFixed(0)} MiB`);
}

export function showProgress(file: string, bytes: number, total: number, phase = ''): void {
  const now = Date.now();
  if (now - lastProgress < 200 && bytes < total) return;
  lastProgress = now;
  const pct = total > 0 ? Math.floor((bytes * 100) / total) : 100;
  process.stderr.write(`\r\x1b[K${file}: ${phase ? phase + ' ' : ''}${pct}% (${(bytes / 1048576).toFixed(0)} / ${(total / 1048576).toFixed(0)} MiB)`);
}
