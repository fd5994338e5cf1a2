/**
 * How the language server process is started: by the extension (client.ts) and by the bench (bench/lsp.ts), from
 * this one place, so that the bench measures the server as the editor runs it.
 *
 * `--v8-pool-size=1`: one V8 worker thread instead of four. Each worker thread that runs an optimising compile
 * gets its own glibc malloc arena, and the compiler's memory freed there stays with the process: 3-4 MiB per
 * thread, ~14 MiB in all after a trace's analysis (/proc/PID/smaps), whatever the trace's size. On the bench's
 * capture trace (9 MB) the server's peak went 54 -> 42-46 MiB over idle; the analysis' CPU time is the same
 * (the machines this runs on give the server one or two cores anyway), see bench/FINDINGS.md, "Capture trace in the
 * server", fourth session. (Not settable at run time: the pool is made when Node starts.)
 */
export const SERVER_EXEC_ARGV: readonly string[] = ['--v8-pool-size=1'];
