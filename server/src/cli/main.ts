/**
 * `kvm-lens` command line: the same analysis as the editor, for CI and terminals.
 * Each subcommand lives in its own file; this one only dispatches.
 * Exit status: 0 ok, 1 an error-level finding (check) or a mismatch (replay), 2 usage or I/O error.
 */
const USAGE = `usage: kvm-lens <command> [options]

commands:
  check FILES... [--format text|json|sarif]      diagnostics for traces and api.rst files
  replay FILE [--format text|json] [--kernel V] [--arch A] [--tdp on|off|auto] [--host-pages 4k|thp|2m|1g|auto]
                                                 replay a trace through the KVM model
  capture [-o FILE] -- COMMAND ARGS...           run a VMM and record its KVM ioctls with decoded structs
  help                                           this text
a trace FILE may be a pipe, /dev/stdin or - (standard input)
`;

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  check: async () => (await import('./check')).check,
  replay: async () => (await import('./replay')).replay,
  capture: async () => (await import('./capture')).capture,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd === '--version') {
    process.stdout.write('kvm-lens 0.1.0\n');
    return 0;
  }
  const load = commands[cmd];
  if (!load) {
    process.stderr.write(`kvm-lens: unknown command '${cmd}'\n${USAGE}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    process.stderr.write(`kvm-lens: ${(e as Error)?.message ?? e}\n`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`kvm-lens: ${e?.stack ?? e}\n`);
      process.exitCode = 2;
    },
  );
}
