/** Trace readers: strace (every option mix), QEMU `-trace kvm_*` logs, kernel ftrace lines, captures. Pure: no LSP imports. */
export * from './types';
export { TraceReader, readTrace, cloneState, DEFAULT_MAX_LINE, type ReaderState } from './reader';
export { TraceDocument } from './incremental';
export { readTraceFile, readTraceStream, traceEvents, type StreamResult } from './file';
export { parseValue, parseArgs, kvmNameValue } from './value';
export { numberOf, resolveRequest } from './ioctl';
export { kindFromDecoration, FdTracker, UNNAMED_PROCESS } from './fds';
export { Src, stripEscapes } from './src';
