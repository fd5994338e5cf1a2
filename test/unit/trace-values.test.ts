import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseArgs, parseValue, Src, type Value } from '../../server/src/trace';
import type { Range } from '../../server/src/common/range';

const v = (text: string): Value => parseValue(Src.line(text, 0));
const at = (text: string, x: Value) => text.slice(x.range.start.character, x.range.end.character);

test('ints: decimal, negative, hex, octal, zero-padded hex', () => {
  assert.deepEqual([v('12'), v('-1'), v('0x7ffd1234'), v('0644'), v('0000000000000000'), v('00000000fee00900')].map((x) => x.kind === 'int' && [x.value, x.radix]), [
    [12n, 10],
    [-1n, 10],
    [0x7ffd1234n, 16],
    [0o644n, 8],
    [0n, 16],
    [0xfee00900n, 16],
  ]);
  const big = v('0xffffffffffffffff');
  assert.ok(big.kind === 'int' && big.value === 0xffffffffffffffffn);
});

test('names, KVM names with their numbers, NULL, elision', () => {
  const n = v('KVM_CAP_USER_MEMORY');
  assert.ok(n.kind === 'name' && n.name === 'KVM_CAP_USER_MEMORY' && n.value === 3n);
  const e = v('KVM_EXIT_IO');
  assert.ok(e.kind === 'name' && e.value === 2n);
  assert.equal(v('AT_FDCWD').kind, 'name');
  assert.equal(v('NULL').kind, 'null');
  assert.equal(v('...').kind, 'elision');
});

test('flag expressions with | and or, values when known', () => {
  const f = v('KVM_MEM_LOG_DIRTY_PAGES|0x80');
  assert.ok(f.kind === 'flags' && f.operator === '|' && f.parts.length === 2 && f.value === 0x81n);
  const u = v('S_IFREG|0644');
  assert.ok(u.kind === 'flags' && u.value === undefined);
  const o = v('KVM_MEM_READONLY or KVM_MEM_LOG_DIRTY_PAGES');
  assert.ok(o.kind === 'flags' && o.operator === 'or' && o.value === 3n);
});

test('strings: escapes, truncation', () => {
  const s = v('"\\x68\\x69\\x0a"');
  assert.ok(s.kind === 'string' && s.value === 'hi\n' && !s.truncated);
  const t = v('"\\177ELF\\2\\1"...');
  assert.ok(t.kind === 'string' && t.value === '\x7fELF\x02\x01' && t.truncated);
  const q = v('"a\\"b\\\\c"');
  assert.ok(q.kind === 'string' && q.value === 'a"b\\c');
});

test('structs: named fields, nested, elided, unnamed members, ranges of every field', () => {
  const text = '{slot=1, flags=KVM_MEM_LOG_DIRTY_PAGES|0x80, guest_phys_addr=0x10000000, memory_size=2097152, userspace_addr=0x7ff1602ba000}';
  const s = v(text);
  assert.equal(s.kind, 'struct');
  if (s.kind !== 'struct') return;
  assert.deepEqual(s.fields.map((f) => f.name), ['slot', 'flags', 'guest_phys_addr', 'memory_size', 'userspace_addr']);
  for (const f of s.fields) {
    assert.equal(text.slice(f.nameRange!.start.character, f.nameRange!.end.character), f.name);
    assert.equal(at(text, f.value), f.value.text);
  }
  const n = v('{cs={base=0xffff0000, limit=65535, selector=61440, type=11, present=1, dpl=0, db=0, s=1, l=0, g=0, avl=0}, ...}');
  assert.ok(n.kind === 'struct' && n.elided && n.fields[0]!.value.kind === 'struct');
  const u = v('{exit_reason=2 /* KVM_EXIT_IO */, {io={direction=KVM_EXIT_IO_OUT, size=1, port=0x3f8, count=1, data_offset=0x00000000001000, data=[0xa]}}}');
  assert.ok(u.kind === 'struct');
  if (u.kind === 'struct') {
    assert.equal(u.fields[0]!.value.comment?.text, 'KVM_EXIT_IO');
    assert.equal(u.fields[1]!.name, undefined);
    assert.equal(u.fields[1]!.value.kind, 'struct');
  }
});

test('arrays: commas, spaces, negated bitsets, elided', () => {
  const a = v('[0, 0, 0, 0, 0]');
  assert.ok(a.kind === 'array' && a.items.length === 5);
  const b = v('[BUS USR1 ALRM IO]');
  assert.ok(b.kind === 'array' && b.items.length === 4 && b.items.every((x) => x.kind === 'name'));
  const c = v('~[ILL FPE KILL SEGV STOP RTMIN RT_1]');
  assert.ok(c.kind === 'array' && c.negated && c.items.length === 7);
  const d = v('{nent=75, entries=[...]}');
  assert.ok(d.kind === 'struct' && d.fields[1]!.value.kind === 'array' && (d.fields[1]!.value as { elided: boolean }).elided);
  const e = v('[{fd=3, revents=POLLIN}]');
  assert.ok(e.kind === 'array' && e.items[0]!.kind === 'struct');
});

test('in/out values: whole struct and per field', () => {
  const w = v('{gpa=0x100000, size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x300000, size=0}');
  assert.ok(w.kind === 'inout' && w.before.kind === 'struct' && w.after.kind === 'struct');
  const f = v('{gpa=0x100000 => 0x300000, size=0x200000 => 0}');
  assert.ok(f.kind === 'struct' && f.fields[0]!.value.kind === 'inout');
  const c = v('{flags=CLONE_VM, child_tid=0x7f41e85ff990} => {parent_tid=[24877]}');
  assert.ok(c.kind === 'inout');
});

test('comments (-X verbose) attach to the value before them', () => {
  const x = v('0xae03 /* KVM_CHECK_EXTENSION */');
  assert.ok(x.kind === 'int' && x.value === 0xae03n && x.comment?.text === 'KVM_CHECK_EXTENSION');
  const y = v('0xec /* KVM_CAP_??? */');
  assert.ok(y.kind === 'int' && y.comment?.text === 'KVM_CAP_???');
  const z = v('0x55a680ab4ab0 /* 0 entries */');
  assert.ok(z.kind === 'int' && z.comment?.text === '0 entries');
});

test('-y decorations on fds and names', () => {
  const a = v('3</dev/kvm<char 10:232>>');
  assert.ok(a.kind === 'int' && a.value === 3n && a.decoration?.text === '/dev/kvm<char 10:232>');
  assert.equal(a.text, '3');
  const b = v('AT_FDCWD</home/dev/qemu>');
  assert.ok(b.kind === 'name' && b.decoration?.text === '/home/dev/qemu');
  const c = v('6<anon_inode:kvm-vcpu:0>');
  assert.ok(c.kind === 'int' && c.decoration?.text === 'anon_inode:kvm-vcpu:0');
});

test('calls and raw expressions', () => {
  const a = v('_IOC(_IOC_READ|_IOC_WRITE, 0xae, 0xd5, 0x40)');
  assert.ok(a.kind === 'call' && a.callee === '_IOC' && a.args.length === 4);
  const b = v('{WIFSIGNALED(s) && WTERMSIG(s) == SIGALRM}');
  assert.ok(b.kind === 'struct' && b.fields[0]!.value.kind === 'raw');
});

test('argument lists: positional, -N named, trailing and leading commas', () => {
  const text = 'fd=3, op=KVM_CHECK_EXTENSION, argp=0x270f /* KVM_CAP_??? */';
  const args = parseArgs(Src.line(text, 0), 0, text.length);
  assert.deepEqual(args.map((a) => a.name), ['fd', 'op', 'argp']);
  const t2 = 'CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=100000000},NULL';
  assert.equal(parseArgs(Src.line(t2, 0), 0, t2.length).length, 4);
  const t3 = ', 0';
  assert.equal(parseArgs(Src.line(t3, 0), 0, t3.length).length, 1);
});

test('ranges through joined sources point into both lines', () => {
  const a = Src.line('ioctl(6, KVM_RUN', 4).slice(6, 16);
  const b = Src.line('[pid 2] <... ioctl resumed>, 0) = 0', 7).slice(27, 35);
  const j = Src.concat(a, b);
  const args = parseArgs(j, 0, j.text.indexOf(')'));
  assert.equal(args.length, 3);
  // the positions (a token inside one segment of the joined text is a LineRange, read like a plain Range)
  const at = (r: Range) => ({ start: { ...r.start }, end: { ...r.end } });
  assert.deepEqual(at(args[1]!.value.range), { start: { line: 4, character: 9 }, end: { line: 4, character: 16 } });
  assert.deepEqual(at(args[2]!.value.range), { start: { line: 7, character: 29 }, end: { line: 7, character: 30 } });
  // a token across the two segments keeps a plain range from one line to the other
  assert.deepEqual(j.range(5, 12), { start: { line: 4, character: 11 }, end: { line: 7, character: 29 } });
});

test('the value parser never throws and always covers its input', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      const x = parseValue(Src.line(s, 0));
      assert.ok(x.range.start.character >= 0 && x.range.end.character <= s.length + 1);
      parseArgs(Src.line(s, 0), 0, s.length);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.array(fc.constantFrom('{', '}', '[', ']', '(', ')', '"', '\\', ',', '=', '=>', '|', ' or ', '/*', '*/', '<', '>', '...', 'x', '0x1', '-', ' '), { maxLength: 60 }), (parts) => {
      const s = parts.join('');
      parseValue(Src.line(s, 0));
      parseArgs(Src.line(s, 0), 0, s.length);
    }),
    { numRuns: 3000 },
  );
});
