// Source of syntaxes/kvm-trace.tmLanguage.json (regexes are easier to read here than JSON-escaped).
// Regenerate: node syntaxes/kvm-trace.grammar.mjs   (test/grammar checks that the JSON is up to date)
//
// One grammar for strace output in all its forms (-f, -o, -ff, -Y, -t/-tt/-ttt, -r, -n, -i, -T, -y/-yy,
// -X raw/verbose, -e raw=ioctl, -N, -e kvm=vcpu(+), -k, colour), QEMU `-trace kvm_*` log lines (no prefix,
// `tid@epoch:`, ISO time) and kvm-lens capture files (strace syntax with decoded structs).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const S = 'kvm-trace';
const sc = (s) => s.split(' ').map((x) => `${x}.${S}`).join(' ');

const PID_TAG = String.raw`(\[)(pid)\s+(\d+)(?:(<)([^>]*)(>))?(\])`;
const TIME = String.raw`\d\d:\d\d:\d\d(?:\.\d+)?|\d{9,}\.\d+`;
const DECO = String.raw`<(?:[^<>]|<[^<>]*>)*>`;
const FD_SYSCALLS = 'close|dup|dup2|dup3|fcntl|fcntl64|read|write|pread64|pwrite64|readv|writev|preadv|pwritev|fstat|fstatfs|fallocate|ftruncate|fsync|fdatasync|lseek|sendmsg|recvmsg|getdents64|fchdir|flock';

const grammar = {
  $schema: 'https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json',
  name: 'KVM Trace',
  scopeName: 'source.kvm-trace',
  fileTypes: ['strace', 'capture'],
  firstLineMatch: String.raw`^(?:\[pid +\d+(?:<[^>]*>)?\] +|\d+ +)?(?:[\d:.]+ +)?(?:\(\+ *[\d.]+\) +)?(?:\[ *\d+\] +)?(?:\[[0-9a-f?]{8,16}\] +)?(?:execve\(|[a-z_][a-z0-9_]*\(.*(?:\) += (?:-?\d|\?|0x)| <unfinished \.\.\.>$)|<\.\.\. [a-z_0-9]+ resumed>|\+\+\+ exited with|--- SIG[A-Z]+ |(?:\S*/)?strace: Process \d+ attached)|^# kvm-lens capture\b|^(?:\d+@\d+\.\d+:|\d{4}-\d\d-\d\dT\S+ +)?kvm_[a-z0-9_]+ (?:cpu_index|type|fd|slot|reason|vcpu|gsi)`,
  patterns: [
    { include: '#ansi' },
    { include: '#strace-message' },
    { include: '#separator' },
    { include: '#capture-comment' },
    { include: '#summary' },
    { include: '#ftrace-line' },
    { include: '#qemu-line' },
    { include: '#prefix' },
    { include: '#stack-frame' },
    { include: '#vcpu-dump' },
    { include: '#signal' },
    { include: '#exit' },
    { include: '#resumed' },
    { include: '#unfinished' },
    { include: '#ioctl' },
    { include: '#fd-call' },
    { include: '#call' },
    { include: '#embedded-message' },
    { include: '#result' },
    { include: '#values' },
  ],
  repository: {
    ansi: { match: String.raw`\x{1b}\[[0-9;]*m`, name: sc('constant.character.escape.ansi') },

    // strace's own lines: `strace: Process 123 attached`, `/usr/local/bin/strace: ...`
    'strace-message': {
      begin: String.raw`^(?:${PID_TAG}\s+)?((?:\S*/)?strace)(:)\s`,
      beginCaptures: {
        1: { name: sc('punctuation.definition.pid') }, 2: { name: sc('keyword.other.pid') }, 3: { name: sc('constant.numeric.pid') },
        4: { name: sc('punctuation.definition.comm') }, 5: { name: sc('string.unquoted.comm') }, 6: { name: sc('punctuation.definition.comm') },
        7: { name: sc('punctuation.definition.pid') }, 8: { name: sc('entity.name.tag.strace') }, 9: { name: sc('punctuation.separator') },
      },
      end: '$',
      name: sc('comment.line.message'),
      patterns: [
        { match: String.raw`\b(Process)\s+(\d+)\s+(attached|detached|resumed|suspended)\b`, captures: { 2: { name: sc('constant.numeric.pid') }, 3: { name: sc('keyword.other.attach') } } },
        { match: String.raw`\bSIG[A-Z0-9]+\b`, name: sc('constant.language.signal') },
      ],
    },

    summary: {
      patterns: [
        { match: String.raw`^% time\s+seconds\s+usecs/call\s+calls\s+errors\s+syscall\s*$`, name: sc('markup.heading.summary') },
        { match: String.raw`^-{6} -{11} .*$`, name: sc('comment.line.summary-rule') },
        {
          match: String.raw`^\s*(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+)\s+(\d+)(?:\s+(\d+))?\s+([a-z_][a-z0-9_]*)\s*$`,
          name: sc('meta.summary-row'),
          captures: {
            1: { name: sc('constant.numeric.percent') }, 2: { name: sc('constant.numeric.time') }, 3: { name: sc('constant.numeric') },
            4: { name: sc('constant.numeric') }, 5: { name: sc('constant.numeric') }, 6: { name: sc('entity.name.function.syscall') },
          },
        },
      ],
    },

    // QEMU trace-event lines: `kvm_vcpu_ioctl cpu_index 0, type 0xae80, arg (nil)` with no prefix,
    // `7022@1567775824.019866:` or an ISO time; kernel-event style `kvm_mmu_spte_requested: gfn 100 ...` too.
    'qemu-line': {
      begin: String.raw`^(?:(\d+)(@)(\d+\.\d+)(:)\s*|(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?)\s+)?([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![a-z0-9_(])(:)?`,
      beginCaptures: {
        1: { name: sc('constant.numeric.pid') }, 2: { name: sc('punctuation.separator.pid') }, 3: { name: sc('constant.numeric.time') },
        4: { name: sc('punctuation.separator') }, 5: { name: sc('constant.numeric.time') }, 6: { name: sc('entity.name.function.tracepoint') },
        7: { name: sc('punctuation.separator') },
      },
      end: '$',
      name: sc('meta.qemu-event'),
      patterns: [
        {
          match: String.raw`\b(type)\s+(0x[0-9a-fA-F]+)`,
          captures: { 1: { name: sc('variable.other.member') }, 2: { name: sc('support.function.kvm-request.raw') } },
        },
        {
          match: String.raw`\b(reason)\s+(\d+|0x[0-9a-fA-F]+)`,
          captures: { 1: { name: sc('variable.other.member') }, 2: { name: sc('constant.numeric.exit-reason') } },
        },
        { match: String.raw`\(nil\)`, name: sc('constant.language.null') },
        {
          match: String.raw`\b([A-Za-z_]\w*)(#)(\d+)`,
          captures: { 1: { name: sc('variable.other.member') }, 2: { name: sc('punctuation.separator') }, 3: { name: sc('constant.numeric.decimal') } },
        },
        { match: String.raw`(?:(?<=^)|(?<=[\s,:]))([a-z_][a-z0-9_]*)(?=\s*[=:]?\s+[-\w("])`, captures: { 1: { name: sc('variable.other.member') } } },
        { include: '#values' },
      ],
    },

    // kernel trace events as trace-cmd/ftrace print them:
    // `  qemu-system-x86-1234  [001] .....  5678.901234: kvm_mmu_spte_requested: gfn 100 pfn 12345 level 2`
    'ftrace-line': {
      begin: String.raw`^\s*(\S.*?)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?(\[)(\d+)(\])\s+(?:([.A-Za-z0-9]{4,6})\s+)?(\d+\.\d+)(:)\s+([a-z_][a-z0-9_]*)(:)`,
      beginCaptures: {
        1: { name: sc('string.unquoted.comm') }, 2: { name: sc('constant.numeric.pid') }, 3: { name: sc('punctuation.definition.cpu') },
        4: { name: sc('constant.numeric.cpu') }, 5: { name: sc('punctuation.definition.cpu') }, 6: { name: sc('constant.other.irq-flags') },
        7: { name: sc('constant.numeric.time') }, 8: { name: sc('punctuation.separator') }, 9: { name: sc('entity.name.function.tracepoint') },
        10: { name: sc('punctuation.separator') },
      },
      end: '$',
      name: sc('meta.kernel-event'),
      patterns: [
        { match: String.raw`(?:(?<=^)|(?<=[\s,:]))([a-z_][a-z0-9_]*)(?=\s*[=:]?\s+[-\w("])`, captures: { 1: { name: sc('variable.other.member') } } },
        { match: String.raw`(?<=\s)[0-9a-f]+\b`, name: sc('constant.numeric.hex') },
        { include: '#values' },
      ],
    },

    // pid tag or column, -Y comm, -t/-tt/-ttt time, -r relative time, -n syscall number, -i instruction pointer
    prefix: {
      match: String.raw`^(?=\[pid\s|\d+[<\s]|\d\d:\d\d:\d\d|\d{9,}\.\d|\(\+|\[\s*\d+\]|\[[0-9a-f?]{8,16}\])(?:${PID_TAG}\s+|(\d+)(?:(<)([^>]*)(>))?\s+(?=\S))?(?:(${TIME})\s+)?(?:(\(\+\s*)(\d+\.\d+)(\))\s+)?(?:(\[)\s*(\d+)(\])\s+)?(?:(\[)([0-9a-f?]{8,16})(\])\s+)?`,
      captures: {
        1: { name: sc('punctuation.definition.pid') }, 2: { name: sc('keyword.other.pid') }, 3: { name: sc('constant.numeric.pid') },
        4: { name: sc('punctuation.definition.comm') }, 5: { name: sc('string.unquoted.comm') }, 6: { name: sc('punctuation.definition.comm') },
        7: { name: sc('punctuation.definition.pid') },
        8: { name: sc('constant.numeric.pid') },
        9: { name: sc('punctuation.definition.comm') }, 10: { name: sc('string.unquoted.comm') }, 11: { name: sc('punctuation.definition.comm') },
        12: { name: sc('constant.numeric.time') },
        13: { name: sc('punctuation.definition.time') }, 14: { name: sc('constant.numeric.time.relative') }, 15: { name: sc('punctuation.definition.time') },
        16: { name: sc('punctuation.definition.syscall-number') }, 17: { name: sc('constant.numeric.syscall-number') }, 18: { name: sc('punctuation.definition.syscall-number') },
        19: { name: sc('punctuation.definition.address') }, 20: { name: sc('constant.numeric.address') }, 21: { name: sc('punctuation.definition.address') },
      },
    },

    // strace -k: ` > /usr/lib/x86_64-linux-gnu/libc.so.6(ioctl+0x3b) [0xfdd6b]`
    'stack-frame': {
      match: String.raw`^\s(>)\s(\S+?)(?:(\()([^()\s]*)(\)))?\s(\[)(0x[0-9a-f]+)(\])\s*$|^\s(>)\s(.*)$`,
      name: sc('meta.stack-frame'),
      captures: {
        1: { name: sc('punctuation.definition.stack-frame') }, 2: { name: sc('string.unquoted.path') },
        3: { name: sc('punctuation.definition.parameters') }, 4: { name: sc('entity.name.function.frame') }, 5: { name: sc('punctuation.definition.parameters') },
        6: { name: sc('punctuation.definition.address') }, 7: { name: sc('constant.numeric.address') }, 8: { name: sc('punctuation.definition.address') },
        9: { name: sc('punctuation.definition.stack-frame') }, 10: { name: sc('string.unquoted.frame') },
      },
    },

    // strace -e kvm=vcpu+: ` VCPU:0< {request_interrupt_window=0, ...}`
    'vcpu-dump': {
      begin: String.raw`^\s(VCPU)(:)(\d+)([<>])`,
      beginCaptures: {
        1: { name: sc('keyword.other.vcpu-dump') }, 2: { name: sc('punctuation.separator') }, 3: { name: sc('constant.numeric.vcpu') },
        4: { name: sc('keyword.operator.direction') },
      },
      end: '$',
      name: sc('meta.vcpu-dump'),
      patterns: [
        { match: String.raw`(?<==)[0-9a-f]{16}\b`, name: sc('constant.numeric.hex') },
        { include: '#values' },
      ],
    },

    signal: {
      begin: String.raw`(---)\s+(?=SIG|stopped by)`,
      beginCaptures: { 1: { name: sc('punctuation.definition.signal') } },
      end: String.raw`(---)\s*$|$`,
      endCaptures: { 1: { name: sc('punctuation.definition.signal') } },
      name: sc('meta.signal'),
      patterns: [{ match: String.raw`\bstopped by\b`, name: sc('keyword.control.signal') }, { include: '#values' }],
    },

    exit: {
      match: String.raw`(\+\+\+)\s+(?:(exited with)\s+(\d+)|(killed by)\s+(SIG[A-Z0-9]+)(?:\s+(\(core dumped\)))?|(superseded by execve in pid)\s+(\d+)|(detached))\s+(\+\+\+)`,
      name: sc('meta.exit'),
      captures: {
        1: { name: sc('punctuation.definition.exit') }, 2: { name: sc('keyword.control.exit') }, 3: { name: sc('constant.numeric.exit-code') },
        4: { name: sc('keyword.control.exit') }, 5: { name: sc('constant.language.signal') }, 6: { name: sc('keyword.control.exit') },
        7: { name: sc('keyword.control.exit') }, 8: { name: sc('constant.numeric.pid') }, 9: { name: sc('keyword.control.exit') },
        10: { name: sc('punctuation.definition.exit') },
      },
    },

    resumed: {
      match: String.raw`(<\.\.\.)\s+([a-z_][a-z0-9_]*)\s+(resumed>)`,
      name: sc('meta.resumed'),
      captures: {
        1: { name: sc('keyword.control.resumed') }, 2: { name: sc('entity.name.function.syscall') }, 3: { name: sc('keyword.control.resumed') },
      },
    },

    // strace's message written into the middle of a half-printed line (strace -o - with stderr on the same file)
    'embedded-message': {
      match: String.raw`((?:/\S*/)?strace)(:)\s+(Process)\s+(\d+)\s+(attached|detached)`,
      name: sc('comment.line.message'),
      captures: { 1: { name: sc('entity.name.tag.strace') }, 2: { name: sc('punctuation.separator') }, 4: { name: sc('constant.numeric.pid') }, 5: { name: sc('keyword.other.attach') } },
    },

    // kvm-lens capture's header: `# kvm-lens capture: qemu-system-x86_64 ... (kernel 6.18.0, 2026-11-21T07:30:00Z)`
    'capture-comment': { match: String.raw`^#.*$`, name: sc('comment.line.number-sign') },

    separator: { match: String.raw`^--$`, name: sc('comment.line.separator') },

    unfinished: { match: String.raw`<unfinished \.\.\.>`, name: sc('keyword.control.unfinished') },

    // ioctl(FD, REQUEST, ...): the fd (with -y decoration, -N `fd=`) and the request (name, _IOC(...), raw number)
    ioctl: {
      match: String.raw`(?:(?<=^)|(?<=[\s\]>]))(ioctl)(\()(?:(fd)(=))?(\d+|0x[0-9a-fA-F]+)(${DECO})?(,)\s*(?:(op)(=))?(?:(KVM_[A-Z0-9_]+)|(_IOC)(\([^()]*\))|(0x[0-9a-fA-F]+|\d+)|([A-Z][A-Z0-9_]*))`,
      captures: {
        1: { name: sc('entity.name.function.syscall') }, 2: { name: sc('punctuation.definition.arguments.begin') },
        3: { name: sc('variable.parameter') }, 4: { name: sc('keyword.operator.assignment') },
        5: { name: sc('constant.numeric.fd') }, 6: { name: sc('string.other.fd-path') }, 7: { name: sc('punctuation.separator') },
        8: { name: sc('variable.parameter') }, 9: { name: sc('keyword.operator.assignment') },
        10: { name: sc('support.function.kvm-request') },
        11: { name: sc('support.function.kvm-request.raw') },
        12: { name: sc('meta.ioc'), patterns: [{ include: '#values' }] },
        13: { name: sc('support.function.kvm-request.raw') },
        14: { name: sc('support.constant.request') },
      },
    },

    // the first argument of calls that take an fd
    'fd-call': {
      match: String.raw`(?:(?<=^)|(?<=[\s\]>]))(${FD_SYSCALLS})(\()(?:(fd)(=))?(-?\d+)(?![\w.])(${DECO})?`,
      captures: {
        1: { name: sc('entity.name.function.syscall') }, 2: { name: sc('punctuation.definition.arguments.begin') },
        3: { name: sc('variable.parameter') }, 4: { name: sc('keyword.operator.assignment') },
        5: { name: sc('constant.numeric.fd') }, 6: { name: sc('string.other.fd-path') },
      },
    },

    call: {
      match: String.raw`(?:(?<=^)|(?<=[\s\]>]))([a-z_][a-z0-9_]*)(\()`,
      captures: { 1: { name: sc('entity.name.function.syscall') }, 2: { name: sc('punctuation.definition.arguments.begin') } },
    },

    // ` = -1 EINVAL (Invalid argument)`, ` = ? ERESTARTSYS (...)`, ` = 4<anon_inode:kvm-vm>`, ` = 0 (KVM_EXIT_IO)`, ` <0.000049>`
    result: {
      patterns: [
        {
          match: String.raw`(?<=\s)(=)\s+(-1|\?)\s+(E[A-Z0-9_]+|ERRNO_\d+)\s+(\()([^()]*)(\))`,
          name: sc('meta.result.error'),
          captures: {
            1: { name: sc('keyword.operator.result') }, 2: { name: sc('constant.numeric.result') }, 3: { name: sc('constant.language.errno') },
            4: { name: sc('punctuation.definition.errno') }, 5: { name: sc('string.unquoted.errno-text') }, 6: { name: sc('punctuation.definition.errno') },
          },
        },
        {
          match: String.raw`(?<=\s)(=)\s+(0x[0-9a-fA-F]+|-?\d+|\?)(${DECO})?`,
          name: sc('meta.result'),
          captures: { 1: { name: sc('keyword.operator.result') }, 2: { name: sc('constant.numeric.result') }, 3: { name: sc('string.other.fd-path') } },
        },
        { match: String.raw`(?<=\s)<unavailable>`, name: sc('constant.language.unavailable') },
        { match: String.raw`\((?:INJECTED|DELAYED)\)`, name: sc('keyword.other.injected') },
        { match: String.raw`(?<=\s)\((Timeout)\)`, name: sc('keyword.other.result-note') },
        { match: String.raw`(?<=\s)(\()(flags)(?=\s)`, captures: { 1: { name: sc('punctuation.definition.parameters') }, 2: { name: sc('keyword.other.result-note') } } },
        { match: String.raw`(?<=\s)(<)(\d+\.\d+)(>)\s*$`, captures: { 1: { name: sc('punctuation.definition.duration') }, 2: { name: sc('constant.numeric.duration') }, 3: { name: sc('punctuation.definition.duration') } } },
      ],
    },

    values: {
      patterns: [
        { include: '#ansi' },
        { include: '#comment' },
        { include: '#string' },
        { include: '#unfinished' },
        { match: String.raw`=>`, name: sc('keyword.operator.inout') },
        { match: String.raw`\b([a-z_][a-zA-Z0-9_.]*|[a-z_][a-zA-Z0-9_]*\[\d+\])(=)(?![=>])`, captures: { 1: { name: sc('variable.other.member') }, 2: { name: sc('keyword.operator.assignment') } } },
        { match: String.raw`\bKVM_CAP_[A-Z0-9_?]+`, name: sc('constant.other.capability') },
        { match: String.raw`\bKVM_EXIT_(?:IO_(?:IN|OUT)|HYPERV_\w+|XEN_\w+)\b`, name: sc('constant.other.flag') },
        { match: String.raw`\bKVM_EXIT_[A-Z0-9_]+\b`, name: sc('constant.other.exit-reason') },
        { match: String.raw`\b(?:KVM_MEM_[A-Z0-9_]+|KVM_MEMORY_ATTRIBUTE_[A-Z0-9_]+|KVM_X86_[A-Z0-9_]+_VM|GUEST_MEMFD_FLAG_[A-Z0-9_]+|KVM_IRQFD_FLAG_\w+|KVM_IOEVENTFD_FLAG_\w+)\b`, name: sc('constant.other.flag') },
        { match: String.raw`\bKVM_[A-Z0-9_]+\b`, name: sc('support.function.kvm-request') },
        { match: String.raw`\b_IOC_(?:NONE|READ|WRITE)\b|\b_IOC\b`, name: sc('support.function.kvm-request.raw') },
        { match: String.raw`\bSIG[A-Z0-9]+(?![A-Z0-9_])|\bSIGRT_\d+\b`, name: sc('constant.language.signal') },
        { match: String.raw`\bE(?:[A-Z0-9]{2,})\b(?=\s+\()`, name: sc('constant.language.errno') },
        { match: String.raw`\bNULL\b`, name: sc('constant.language.null') },
        { match: String.raw`\b([A-Z][A-Z0-9_]*)(${DECO})`, captures: { 1: { name: sc('constant.other.flag') }, 2: { name: sc('string.other.fd-path') } } },
        { match: String.raw`\b(\d+)(${DECO})`, captures: { 1: { name: sc('constant.numeric.fd') }, 2: { name: sc('string.other.fd-path') } } },
        { match: String.raw`\b0x[0-9a-fA-F]+\b`, name: sc('constant.numeric.hex') },
        { match: String.raw`(?<![\w.])-?\d+(?:\.\d+)?\b`, name: sc('constant.numeric.decimal') },
        { match: String.raw`\b[A-Z][A-Z0-9_]*[A-Z0-9]\b`, name: sc('constant.other.flag') },
        { match: String.raw`\.\.\.`, name: sc('constant.language.elision') },
        { match: String.raw`[{}]`, name: sc('punctuation.definition.struct') },
        { match: String.raw`[\[\]]`, name: sc('punctuation.definition.array') },
        { match: String.raw`[()]`, name: sc('punctuation.definition.parameters') },
        { match: String.raw`\(deleted\)`, name: sc('string.other.fd-path.deleted') },
        { match: String.raw`\|\||&&|==|!=|\*|~|\||<<|>>`, name: sc('keyword.operator') },
        { match: String.raw`\b[a-z_][a-z0-9_]*\b`, name: sc('variable.other.identifier') },
        { match: String.raw`,`, name: sc('punctuation.separator') },
      ],
    },

    comment: {
      begin: String.raw`/\*`,
      end: String.raw`\*/|$`,
      name: sc('comment.block'),
      patterns: [
        { match: String.raw`\bKVM_CAP_[A-Z0-9_?]+`, name: sc('constant.other.capability') },
        { match: String.raw`\bKVM_EXIT_[A-Z0-9_]+\b`, name: sc('constant.other.exit-reason') },
        { match: String.raw`\bKVM_[A-Z0-9_]+\b`, name: sc('support.function.kvm-request') },
      ],
    },

    string: {
      begin: '"',
      end: String.raw`(")(\.\.\.)?|$`,
      endCaptures: { 1: { name: sc('punctuation.definition.string.end') }, 2: { name: sc('constant.language.truncated') } },
      beginCaptures: { 0: { name: sc('punctuation.definition.string.begin') } },
      name: sc('string.quoted.double'),
      patterns: [{ match: String.raw`\\(?:[0-7]{1,3}|x[0-9a-fA-F]{2}|.)`, name: sc('constant.character.escape') }],
    },
  },
};

export default grammar;

export function grammarJson() {
  return JSON.stringify(grammar, null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(new URL('./kvm-trace.tmLanguage.json', import.meta.url), grammarJson());
}
