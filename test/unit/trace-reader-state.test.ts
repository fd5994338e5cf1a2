/**
 * A reader state saved at a line (the editor's checkpoints: TraceReader.saveState) must resume to what the reading
 * it was saved from gives after that line, however that reading goes on: the saved held event shares its values
 * with the live one (trace/reader.ts heldCopy), and the live reading then numbers it, attaches frames (-k), data
 * dumps (-e read=) and kvm_run dumps (-e kvm=vcpu+) to it, gives its ioctl an exit reason and a vCPU index, and
 * delivers it. Over the corpus and the own recordings, at lines before continuation lines and at spread lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cloneState, TraceReader } from '../../server/src/trace/reader';
import type { ReadOptions } from '../../server/src/trace/types';
import { corpusMissing, traceFiles } from '../fixtures/traces/files';

/** JSON with bigints */
const json = (x: unknown): string => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

function readAll(lines: string[], opts: ReadOptions, state?: ReturnType<TraceReader['saveState']>): string[] {
  const out: string[] = [];
  // (a reader changes the state it is given: each resumption takes a copy, as the editor's does)
  const r = new TraceReader({ event: (e) => void out.push(json(e)), finding: (f) => void out.push('finding ' + json(f)) }, opts, state && cloneState(state));
  for (const l of lines) r.pushLine(l);
  r.end();
  return out;
}

function resumes(lines: string[], opts: ReadOptions, what: string): { saved: number; continued: number } {
  const out: string[] = [];
  const r = new TraceReader({ event: (e) => void out.push(json(e)), finding: (f) => void out.push('finding ' + json(f)) }, opts);
  // where to save: before continuation lines (a frame, dump or kvm_run dump attaches to the held event; at most
  // about 60 of them) and at about 40 lines spread over the file
  const step = Math.max(1, Math.floor(lines.length / 40));
  const conts = lines.filter((l) => l.startsWith(' ')).length;
  const contStep = Math.max(1, Math.floor(conts / 60));
  const states: { at: number; items: number; state: ReturnType<TraceReader['saveState']> }[] = [];
  let continued = 0;
  for (let i = 0; i < lines.length; i++) {
    const cont = lines[i]!.startsWith(' ');
    if (cont) continued++;
    if (i > 0 && ((cont && continued % contStep === 0) || i % step === 0)) states.push({ at: i, items: out.length, state: r.saveState() });
    r.pushLine(lines[i]!);
  }
  r.end();
  // out holds the live events as they are now: numbered, frames attached, delivered
  for (const s of states) {
    assert.deepEqual(readAll(lines.slice(s.at), opts, s.state), out.slice(s.items), `${what}: resumed at line ${s.at}`);
    // the text edited after the saved line (the editor's case): the continuation lines there removed; the same
    // as a fresh reading of the edited text
    const tail = lines.slice(s.at);
    let k = 0;
    while (k < tail.length && tail[k]!.startsWith(' ')) k++;
    if (k === 0) continue;
    const edited = [...lines.slice(0, s.at), ...tail.slice(k)];
    assert.deepEqual(readAll(tail.slice(k), opts, s.state), readAll(edited, opts).slice(s.items), `${what}: resumed at line ${s.at} on an edited text`);
  }
  return { saved: states.length, continued };
}

test('a saved reader state resumes to the same events while the live reading numbers, extends and delivers its held event', (t) => {
  const files = traceFiles();
  assert.ok(files.length > 10, `only ${files.length} trace files`);
  let saved = 0;
  let continued = 0;
  for (const f of files) {
    const lines = readFileSync(f, 'utf8').split('\n');
    if (lines.length > 20_000) continue;
    for (const opts of [{}, { modelOnly: true }] as ReadOptions[]) {
      const r = resumes(lines, { fileName: f, ...opts }, `${f} ${JSON.stringify(opts)}`);
      saved += r.saved;
      continued += r.continued;
    }
  }
  // a KVM_RUN whose result and fd say no exit reason and no vCPU index: the kvm_run dumps after it give them
  const run = [
    '24055 ioctl(3, KVM_CREATE_VM, 0) = 4',
    '24055 ioctl(4, KVM_CREATE_VCPU, 0) = 6',
    '24055 ioctl(7, KVM_RUN, 0) = 0',
    ' VCPU:0< {request_interrupt_window=0, immediate_exit=0, exit_reason=0 /* KVM_EXIT_UNKNOWN */, ready_for_interrupt_injection=0}',
    ' VCPU:0> {request_interrupt_window=0, immediate_exit=0, exit_reason=2 /* KVM_EXIT_IO */, ready_for_interrupt_injection=0}',
    ' > /usr/lib/x86_64-linux-gnu/libc.so.6(ioctl+0xb) [0x11dd4b]',
    '24055 write(1, "x", 1) = 1',
    ' | 00000  78                                                x                |',
    '24055 +++ exited with 0 +++',
  ];
  for (const opts of [{}, { modelOnly: true }] as ReadOptions[]) {
    const r = resumes(run, opts, `KVM_RUN with dumps ${JSON.stringify(opts)}`);
    saved += r.saved;
    continued += r.continued;
  }
  // the own recordings have -k frames; the corpus adds data dumps and kvm_run dumps
  assert.ok(saved > 1000 && continued > 100, `${saved} states saved, ${continued} continuation lines`);
  t.diagnostic(`${saved} states resumed, ${continued} continuation lines${corpusMissing ? ` (${corpusMissing})` : ''}`);
});
