/**
 * The server's intake of JSON-RPC messages over a byte stream (stdio, pipe or socket), for messages of any size.
 *
 * vscode-jsonrpc's StreamMessageReader keeps a whole message body, concatenates it, decodes it to one string and
 * `JSON.parse`s it in one turn of the event loop: for a 44 MB `didOpen` that is a 200-300 ms stall with the body,
 * its string and the parsed text alive at once. `IncrementalMessageReader` is a drop-in `MessageReader` that
 *
 * - reads the headers as vscode-jsonrpc does (same header grammar, same errors);
 * - parses a body shorter than `streamMin` exactly as vscode-jsonrpc does (`JSON.parse` of the UTF-8 text);
 * - parses a longer body while it arrives (`StreamingJsonParser`): bytes outside long strings are kept as a small
 *   "skeleton"; each string longer than `bigString` bytes (the document text) is cut at safe places (never inside
 *   an escape or a UTF-8 sequence) into pieces of about `pieceBytes`, each decoded by `JSON.parse('"' + piece + '"')`,
 *   so its escapes, surrogates and invalid UTF-8 give exactly what `JSON.parse(body.toString())` gives; at the
 *   end the skeleton is parsed and the long strings (joined pieces) are put back in their places;
 * - works at most `sliceMs` per turn: when input waits, it pauses the stream and goes on after `setImmediate`.
 *
 * Messages are delivered in the order they arrived; a wrong message (headers, JSON) fires `onError` and reading
 * goes on with the next one, a closed stream fires `onClose` after the complete messages before it.
 */
import { randomBytes } from 'node:crypto';
import { Socket, createConnection as netConnect } from 'node:net';
import { format } from 'node:util';
import {
  AbstractMessageReader, AbstractMessageWriter, Disposable, createConnection, ProposedFeatures,
  type Connection, type DataCallback, type Message, type MessageReader, type MessageWriter,
} from 'vscode-languageserver/node';
import { JsonPieces } from './jsonStream';

const CR = 13;
const LF = 10;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;


export interface IncrementalReaderOptions {
  /** bodies at least this long (bytes) are parsed as they arrive; shorter ones with JSON.parse (default 1 MiB) */
  streamMin?: number;
  /** in a streamed body, strings longer than this (bytes, escaped) are decoded in pieces (default 64 KiB) */
  bigString?: number;
  /** size of the pieces a long string is decoded in (default 256 KiB) */
  pieceBytes?: number;
  /** work at most this long in one turn of the event loop before yielding (default 5 ms) */
  sliceMs?: number;
  /** a header block longer than this without its blank line is an error (default 64 KiB) */
  maxHeaderBytes?: number;
  /** as vscode-jsonrpc's partialMessageTimeout: onPartialMessage after this long waiting for a body (default 10 s) */
  partialMessageTimeout?: number;
}

/** The readable side the reader needs (a Node stream: process.stdin, a socket, a PassThrough in tests). */
export interface ByteStream {
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
  on(event: 'close' | 'end', listener: () => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/**
 * Parses one JSON text fed in byte chunks. Not a general streaming parser: it keeps everything but long strings
 * as bytes and parses them with JSON.parse at the end, so its results are JSON.parse's by construction.
 */
export class StreamingJsonParser {
  private skel: Buffer;
  private skelLen = 0;
  /** container stack outside strings ('{' or '['), for telling keys from values */
  private readonly stack: number[] = [];
  private lastSig = 0;
  private inString = false;
  /** a short string's last byte so far is a backslash that escapes the next one */
  private afterBackslash = false;
  /** start of the current string's contents in the skeleton (a short string) */
  private strStart = 0;
  private strIsKey = false;
  /** the current string is long: its bytes go to `raw` and its decoded pieces to `pieces` */
  private big = false;
  private raw: Buffer[] = [];
  private rawLen = 0;
  private pieces: string[] = [];
  /** backslashes ending the long string's bytes so far (held or decoded) */
  private bsRun = 0;
  private readonly bigValues: string[] = [];
  private scratch: Buffer = Buffer.alloc(0);
  private readonly token: string;
  private readonly bigString: number;
  private readonly pieceBytes: number;

  constructor(opts: { bigString?: number; pieceBytes?: number; sizeHint?: number } = {}) {
    this.bigString = Math.max(16, opts.bigString ?? 64 * 1024);
    this.pieceBytes = Math.max(16, opts.pieceBytes ?? 256 * 1024);
    this.skel = Buffer.allocUnsafe(Math.min(opts.sizeHint ?? 4096, 64 * 1024) || 4096);
    this.token = `\u0000kvm-lens:${randomBytes(12).toString('hex')}:`;
  }

  /** Bytes held by the parser now (skeleton and undecoded string bytes), for tests and memory notes. */
  get heldBytes(): number {
    return this.skelLen + this.rawLen;
  }

  /** Feed bytes [start, end) of a chunk. Throws a SyntaxError when a long string's contents are not valid JSON. */
  feed(chunk: Uint8Array, start = 0, end = chunk.length): void {
    let i = start;
    while (i < end) {
      if (!this.inString) i = this.structure(chunk, i, end);
      else if (this.big) i = this.bigBytes(chunk, i, end);
      else i = this.shortBytes(chunk, i, end);
    }
  }

  /** The parsed value; throws SyntaxError (as JSON.parse) when the text is not one JSON value. */
  finish(): unknown {
    if (this.inString) throw new SyntaxError('Unterminated string in JSON');
    const text = this.skel.toString('utf8', 0, this.skelLen);
    const value = JSON.parse(text);
    if (!this.bigValues.length) return value;
    return this.restore(value);
  }

  // ---- outside strings: copy to the skeleton, follow the structure ----
  private structure(b: Uint8Array, i: number, end: number): number {
    const start = i;
    for (; i < end; i++) {
      const c = b[i]!;
      if (c === QUOTE) {
        this.copy(b, start, i + 1);
        this.inString = true;
        this.afterBackslash = false;
        this.strStart = this.skelLen;
        this.strIsKey = this.stack.length > 0 && this.stack[this.stack.length - 1] === 0x7b && (this.lastSig === 0x7b || this.lastSig === 0x2c);
        this.lastSig = QUOTE;
        return i + 1;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      if (c === 0x7b || c === 0x5b) this.stack.push(c);
      else if (c === 0x7d || c === 0x5d) this.stack.pop();
      this.lastSig = c;
    }
    this.copy(b, start, end);
    return end;
  }

  // ---- a short string (so far): copy to the skeleton until its end, or until it is long ----
  private shortBytes(b: Uint8Array, i: number, end: number): number {
    const stop = this.scanString(b, i, end);
    this.copy(b, i, stop); // with the closing quote when the string ended
    if (!this.inString) return stop;
    if (!this.strIsKey && this.skelLen - this.strStart > this.bigString) {
      // long: move its bytes so far out of the skeleton
      this.big = true;
      this.raw = [Buffer.from(this.skel.subarray(this.strStart, this.skelLen))];
      this.rawLen = this.skelLen - this.strStart;
      this.skelLen = this.strStart;
      this.pieces = [];
      this.bsRun = trailingBackslashes(this.raw[0]!, this.rawLen, 0);
      if (this.rawLen >= this.pieceBytes) this.decodePiece(false);
    }
    return stop;
  }

  // ---- a long string: keep raw bytes, decode in pieces ----
  private bigBytes(b: Uint8Array, i: number, end: number): number {
    // its end: the first quote after an even run of backslashes (native search; a run may start in earlier bytes)
    const region = Buffer.from(b.buffer, b.byteOffset + i, end - i);
    let close = -1;
    for (let q = region.indexOf(QUOTE); q >= 0; q = region.indexOf(QUOTE, q + 1)) {
      let run = 0;
      while (run < q && region[q - 1 - run] === BACKSLASH) run++;
      if (run === q) run += this.bsRun;
      if ((run & 1) === 0) {
        close = q;
        break;
      }
    }
    const n = close < 0 ? region.length : close;
    if (n > 0) {
      this.raw.push(close < 0 ? region : region.subarray(0, n));
      this.rawLen += n;
      let run = 0;
      while (run < n && region[n - 1 - run] === BACKSLASH) run++;
      this.bsRun = run === n ? this.bsRun + run : run;
    }
    if (close >= 0) {
      this.decodePiece(true);
      const value = this.pieces.length === 1 ? this.pieces[0]! : this.pieces.join('');
      this.pieces = [];
      this.big = false;
      this.inString = false;
      const ph = this.token + this.bigValues.length;
      this.bigValues.push(value);
      this.copy(Buffer.from(JSON.stringify(ph).slice(1), 'utf8'), 0); // the placeholder and the closing quote
      return i + close + 1;
    }
    if (this.rawLen >= this.pieceBytes) this.decodePiece(false);
    return end;
  }

  /**
   * Decode the bytes held for the long string: all of them at its end, else up to a safe cut, neither inside an
   * escape (\\x or \\uXXXX: its backslash would be among the last 5 bytes, and is the odd one of its run) nor
   * inside a UTF-8 sequence. The held bytes always start at such a cut, so each piece parses with JSON.parse as
   * it would inside the whole text (escapes, surrogate halves and invalid UTF-8 alike).
   */
  private decodePiece(all: boolean): void {
    const len = this.rawLen;
    if (!len) return;
    // one copy: the held bytes between quotes (in a buffer kept for the next pieces: no external-memory churn)
    if (this.scratch.length < len + 2) this.scratch = Buffer.allocUnsafe(Math.max(len + 2, this.pieceBytes + 64));
    const q = this.scratch;
    q[0] = QUOTE;
    let o = 1;
    for (const part of this.raw) {
      q.set(part, o);
      o += part.length;
    }
    let cut = len; // in held bytes; q[1 + k] is held byte k
    if (!all) {
      let p = -1;
      for (let k = len - 1; k >= Math.max(0, len - 5); k--) {
        if (q[1 + k] === BACKSLASH) {
          p = k;
          break;
        }
      }
      let run = 0;
      if (p >= 0) {
        run = 1;
        while (run <= p && q[p - run + 1] === BACKSLASH) run++; // q[1 + (p - run)]
      }
      // before an escaping backslash (ASCII: no UTF-8 sequence is open there), else before an open sequence
      cut = run & 1 ? p : utf8Cut(q.subarray(1), len);
    }
    const rest = cut < len ? Buffer.from(q.subarray(1 + cut, 1 + len)) : undefined;
    if (cut > 0) {
      q[1 + cut] = QUOTE;
      this.pieces.push(JSON.parse(q.toString('utf8', 0, cut + 2)) as string);
    }
    this.raw = rest ? [rest] : [];
    this.rawLen = rest ? rest.length : 0;
  }

  /**
   * Scan a short string's contents from i; returns the index after its closing quote (and clears inString) or
   * end. A backslash escapes the byte after it (possibly in the next chunk); \uXXXX digits never hold a quote
   * or a backslash when valid, and an invalid escape fails in JSON.parse at the end.
   */
  private scanString(b: Uint8Array, i: number, end: number): number {
    if (this.afterBackslash && i < end) {
      this.afterBackslash = false;
      i++;
    }
    while (i < end) {
      const c = b[i]!;
      if (c === QUOTE) {
        this.inString = false;
        return i + 1;
      }
      if (c === BACKSLASH) {
        if (i + 1 === end) {
          this.afterBackslash = true;
          return end;
        }
        i += 2;
      } else i++;
    }
    return end;
  }

  private copy(b: Uint8Array, start: number, end = b.length): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.skelLen + n > this.skel.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.skel.length * 2, this.skelLen + n));
      this.skel.copy(grown, 0, 0, this.skelLen);
      this.skel = grown;
    }
    this.skel.set(b.subarray(start, end), this.skelLen);
    this.skelLen += n;
  }

  /** Put the long strings back where their placeholders are (each at most once, only as values). */
  private restore(root: unknown): unknown {
    const found = new Uint8Array(this.bigValues.length);
    const lookup = (v: string): string | undefined => {
      if (!v.startsWith(this.token)) return undefined;
      const n = Number(v.slice(this.token.length));
      if (!Number.isInteger(n) || n < 0 || n >= this.bigValues.length || found[n]) throw new SyntaxError('JSON text repeats an internal placeholder');
      found[n] = 1;
      return this.bigValues[n];
    };
    const top = typeof root === 'string' ? lookup(root) : undefined;
    if (top !== undefined) root = top;
    else {
      const todo: unknown[] = [root];
      while (todo.length) {
        const o = todo.pop();
        if (Array.isArray(o)) {
          for (let k = 0; k < o.length; k++) {
            const v = o[k];
            if (typeof v === 'string') {
              const r = lookup(v);
              if (r !== undefined) o[k] = r;
            } else if (v && typeof v === 'object') todo.push(v);
          }
        } else if (o && typeof o === 'object') {
          for (const k of Object.keys(o)) {
            const v = (o as Record<string, unknown>)[k];
            if (typeof v === 'string') {
              const r = lookup(v);
              if (r !== undefined) (o as Record<string, unknown>)[k] = r;
            } else if (v && typeof v === 'object') todo.push(v);
          }
        }
      }
    }
    // a placeholder not found was a value overwritten by a later duplicate key, as JSON.parse does with the text
    this.bigValues.length = 0;
    return root;
  }
}

/** Length of the run of backslashes ending b[0, end), plus `before` when the run covers all of it. */
function trailingBackslashes(b: Uint8Array, end: number, before: number): number {
  let run = 0;
  while (run < end && b[end - 1 - run] === BACKSLASH) run++;
  return run === end ? before + run : run;
}

/**
 * The largest cut <= end such that bytes [0, cut) and [cut, ...) decode to what the whole decodes to: never
 * before a UTF-8 continuation byte that belongs to a sequence started before the cut.
 */
export function utf8Cut(b: Uint8Array, end: number): number {
  for (let k = 1; k <= 3 && end - k >= 0; k++) {
    const c = b[end - k]!;
    if (c < 0x80) return end; // ASCII: nothing open
    if (c >= 0xc0) {
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return k < need ? end - k : end;
    }
  }
  return end;
}

type Phase = 'headers' | 'small' | 'stream';

/** A MessageReader for a byte stream that never blocks the event loop for long, whatever the message size. */
export class IncrementalMessageReader extends AbstractMessageReader implements MessageReader {
  private readonly streamMin: number;
  private readonly bigString: number;
  private readonly pieceBytes: number;
  private readonly sliceMs: number;
  private readonly maxHeaderBytes: number;
  private partialTimeout: number;
  private callback: DataCallback | undefined;
  private readonly queue: Buffer[] = [];
  private qOff = 0;
  private queued = 0;
  private phase: Phase = 'headers';
  // headers
  private headerState = 0;
  private headerParts: Buffer[] = [];
  private headerLen = 0;
  // body
  private bodyLeft = 0;
  private bodyParts: Buffer[] = [];
  private bodyLen = 0;
  private parser: StreamingJsonParser | undefined;
  private streamError: Error | undefined;
  // flow
  private paused = false;
  private scheduled = false;
  private ended = false;
  private closed = false;
  private partialTimer: NodeJS.Timeout | undefined;
  private readonly listeners: [string, (...a: any[]) => void][] = [];
  /** sees every message before it is delivered (the stdio server notes `shutdown` with it) */
  observe: ((m: Message) => void) | undefined;

  constructor(private readonly readable: ByteStream, options: IncrementalReaderOptions = {}) {
    super();
    this.streamMin = options.streamMin ?? 1024 * 1024;
    this.bigString = options.bigString ?? 64 * 1024;
    this.pieceBytes = options.pieceBytes ?? 256 * 1024;
    this.sliceMs = options.sliceMs ?? 5;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
    this.partialTimeout = options.partialMessageTimeout ?? 10000;
  }

  set partialMessageTimeout(ms: number) {
    this.partialTimeout = ms;
  }
  get partialMessageTimeout(): number {
    return this.partialTimeout;
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const on = (ev: string, fn: (...a: any[]) => void) => {
      (this.readable.on as (e: string, f: (...a: any[]) => void) => unknown)(ev, fn);
      this.listeners.push([ev, fn]);
    };
    on('data', (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk));
    on('error', (e: Error) => this.fireError(e));
    // vscode-jsonrpc listens to 'close'; 'end' comes first when the writer ends its side: either closes the reader
    on('end', () => this.onEnd());
    on('close', () => this.onEnd());
    return Disposable.create(() => this.unlisten());
  }

  override dispose(): void {
    this.unlisten();
    super.dispose();
  }

  private unlisten(): void {
    for (const [ev, fn] of this.listeners) this.readable.off(ev, fn);
    this.listeners.length = 0;
    this.clearPartialTimer();
    this.callback = undefined;
  }

  private onData(chunk: Buffer): void {
    if (!chunk.length) return;
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (!this.scheduled) this.pump();
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.scheduled) this.finishClose();
  }

  private finishClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearPartialTimer();
    this.fireClose();
  }

  /** Work through the queued bytes for at most sliceMs; then yield (pausing the stream) if bytes remain. */
  private pump(): void {
    this.scheduled = false;
    const t0 = performance.now();
    try {
      while (this.queued > 0 && this.callback) {
        this.step();
        if (this.queued > 0 && performance.now() - t0 >= this.sliceMs) {
          this.scheduled = true;
          if (!this.paused) {
            this.paused = true;
            this.readable.pause();
          }
          setImmediate(() => this.pump());
          return;
        }
      }
    } catch (e) {
      // never expected (every parse error is caught in step); keep the reader alive
      this.fireError(e);
    }
    if (this.paused) {
      this.paused = false;
      this.readable.resume();
    }
    if (this.phase === 'headers' ? this.headerLen > 0 : true) this.setPartialTimer();
    else this.clearPartialTimer();
    if (this.ended) this.finishClose();
  }

  /** Consume some bytes of the head of the queue (at most one chunk, at most pieceBytes of a streamed body). */
  private step(): void {
    const chunk = this.queue[0]!;
    let i = this.qOff;
    let end = chunk.length;
    if (this.phase === 'headers') {
      i = this.scanHeaders(chunk, i, end);
    } else {
      end = Math.min(end, i + this.bodyLeft, this.phase === 'stream' ? i + this.pieceBytes : end);
      const n = end - i;
      if (this.phase === 'small') {
        this.bodyParts.push(chunk.subarray(i, end));
        this.bodyLen += n;
      } else if (this.phase === 'stream' && !this.streamError) {
        try {
          this.parser!.feed(chunk, i, end);
        } catch (e) {
          this.streamError = e as Error;
          this.parser = undefined;
        }
      }
      this.bodyLeft -= n;
      i = end;
      if (this.bodyLeft === 0) this.bodyDone();
    }
    this.queued -= i - this.qOff;
    if (i >= chunk.length) {
      this.queue.shift();
      this.qOff = 0;
    } else this.qOff = i;
  }

  private scanHeaders(b: Buffer, i: number, end: number): number {
    // vscode-jsonrpc's state machine: \r\n\r\n ends the headers
    let state = this.headerState;
    const start = i;
    for (; i < end && state !== 4; i++) {
      const c = b[i];
      if (c === CR) state = state === 0 ? 1 : state === 2 ? 3 : 0;
      else if (c === LF) state = state === 1 ? 2 : state === 3 ? 4 : 0;
      else state = 0;
    }
    this.headerState = state;
    this.headerParts.push(b.subarray(start, i));
    this.headerLen += i - start;
    if (state === 4) {
      const text = Buffer.concat(this.headerParts, this.headerLen).toString('ascii');
      this.headerParts = [];
      this.headerLen = 0;
      this.headerState = 0;
      this.headersDone(text);
    } else if (this.headerLen > this.maxHeaderBytes) {
      this.headerParts = [];
      this.headerLen = 0;
      this.headerState = 0;
      this.fireError(new Error(`Message header is longer than ${this.maxHeaderBytes} bytes without its end (\\r\\n\\r\\n); the bytes are dropped`));
    }
    return i;
  }

  private headersDone(text: string): void {
    const lines = text.split('\r\n');
    const headers = new Map<string, string>();
    for (let k = 0; k < lines.length - 2; k++) {
      const line = lines[k]!;
      const colon = line.indexOf(':');
      if (colon === -1) {
        this.fireError(new Error(`Message header must separate key and value using ':'\n${line}`));
        return;
      }
      headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    const contentLength = headers.get('content-length');
    if (!contentLength) {
      this.fireError(new Error(`Header must provide a Content-Length property.\n${JSON.stringify(Object.fromEntries(headers))}`));
      return;
    }
    const length = parseInt(contentLength);
    if (isNaN(length) || length < 0) {
      this.fireError(new Error(`Content-Length value must be a number. Got ${contentLength}`));
      return;
    }
    this.bodyLeft = length;
    this.bodyParts = [];
    this.bodyLen = 0;
    this.streamError = undefined;
    if (length >= this.streamMin) {
      this.phase = 'stream';
      this.parser = new StreamingJsonParser({ bigString: this.bigString, pieceBytes: this.pieceBytes, sizeHint: 4096 });
    } else this.phase = 'small';
    if (length === 0) this.bodyDone();
  }

  private bodyDone(): void {
    const phase = this.phase;
    this.phase = 'headers';
    let message: unknown;
    try {
      if (phase === 'small') {
        const body = this.bodyParts.length === 1 ? this.bodyParts[0]! : Buffer.concat(this.bodyParts, this.bodyLen);
        this.bodyParts = [];
        message = JSON.parse(body.toString('utf8'));
      } else {
        const parser = this.parser;
        this.parser = undefined;
        if (this.streamError || !parser) throw this.streamError ?? new Error('message body lost');
        message = parser.finish();
      }
    } catch (e) {
      this.fireError(e);
      return;
    } finally {
      this.bodyParts = [];
      this.streamError = undefined;
    }
    this.clearPartialTimer();
    this.observe?.(message as Message);
    this.callback?.(message as Message);
  }

  private setPartialTimer(): void {
    this.clearPartialTimer();
    if (this.partialTimeout <= 0 || this.closed) return;
    const waitingTime = this.partialTimeout;
    this.partialTimer = setTimeout(() => {
      this.partialTimer = undefined;
      if (this.phase !== 'headers' || this.headerLen > 0) {
        this.firePartialMessage({ messageToken: 0, waitingTime });
        this.setPartialTimer();
      }
    }, waitingTime);
    this.partialTimer.unref?.();
  }

  private clearPartialTimer(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
  }
}

/** The writable side the writer needs (a Node stream: process.stdout, a socket, a PassThrough in tests). */
export interface WritableByteStream {
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  once(event: 'drain' | 'close' | 'error', listener: (...args: any[]) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  end(): unknown;
}

export interface StreamingWriterOptions {
  /** characters of JSON made and written at a time (default 64 Ki) */
  pieceChars?: number;
  /** work at most this long in one turn of the event loop before yielding (default 5 ms) */
  sliceMs?: number;
}

/**
 * A MessageWriter for a byte stream that never holds a big message whole (vscode-jsonrpc's writer holds its
 * `JSON.stringify` and the Buffer of it at once). A message is `JSON.stringify(message)`, as before, framed by
 * `Content-Length` as before; one of at most `pieceChars` characters (nearly all) is written as vscode-jsonrpc
 * writes it. A longer one, or one holding a `LazyJsonArray` (lsp/jsonStream.ts: e.g. a trace's diagnostics made
 * one at a time), is made twice in pieces: a first pass counts its UTF-8 bytes, the second writes the pieces, each
 * as a Buffer of its own, waiting for `drain` when the stream asks to, and giving the event loop a turn after
 * `sliceMs` of work. So the text is never whole, and neither is a lazy array: its elements die young. Messages go
 * out in the order they were given, one after the other.
 *
 * The second pass must give the bytes the first counted (a lazy array's contract). Should it not, the frame is
 * kept whole anyway (cut, or padded with spaces, to its Content-Length; the error is reported): the stream stays
 * readable for the messages after it.
 */
export class StreamingMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private errorCount = 0;
  private readonly pieceChars: number;
  private readonly sliceMs: number;

  constructor(private readonly out: WritableByteStream, options: StreamingWriterOptions = {}) {
    super();
    this.pieceChars = Math.max(16, options.pieceChars ?? 64 * 1024);
    this.sliceMs = Math.max(0, options.sliceMs ?? 5);
    out.on('error', (e: Error) => this.fireError(e));
    out.on('close', () => {
      this.closed = true;
      this.fireClose();
    });
  }

  write(msg: Message): Promise<void> {
    const run = this.queue.then(() => this.send(msg));
    this.queue = run.catch(() => {});
    return run;
  }

  end(): void {
    this.out.end();
  }

  private async send(msg: Message): Promise<void> {
    let pieces: JsonPieces | undefined;
    try {
      pieces = JsonPieces.of(msg, this.pieceChars);
      if (!pieces) throw new TypeError('message has no JSON text');
    } catch (e) {
      this.fireError(e as Error);
      throw e;
    }
    let last: Promise<void> = Promise.resolve();
    const put = (b: Uint8Array): boolean => {
      let ok = true;
      last = new Promise<void>((resolve, reject) => {
        ok = this.out.write(b, (error) => (error ? reject(error) : resolve()));
      });
      // the outcome is awaited at the end; an error before then is not unhandled
      last.catch(() => {});
      return ok;
    };
    try {
      const one = pieces.single;
      if (one !== undefined) {
        const body = Buffer.from(one, 'utf8');
        put(Buffer.from(`Content-Length: ${body.byteLength}\r\n\r\n`, 'ascii'));
        put(body);
        await last;
        return;
      }
      let deadline = performance.now() + this.sliceMs;
      const turn = async () => {
        if (performance.now() < deadline) return;
        await new Promise<void>((r) => setImmediate(r));
        deadline = performance.now() + this.sliceMs;
      };
      let total = 0;
      for (const p of pieces) {
        total += Buffer.byteLength(p, 'utf8');
        await turn();
      }
      put(Buffer.from(`Content-Length: ${total}\r\n\r\n`, 'ascii'));
      let written = 0;
      let made = 0;
      let failed: unknown;
      try {
        for (const p of pieces) {
          if (this.closed) throw new Error('the stream closed while a message was written');
          let b = Buffer.from(p, 'utf8');
          made += b.byteLength;
          if (written + b.byteLength > total) b = b.subarray(0, total - written);
          written += b.byteLength;
          if (b.byteLength && !put(b)) await this.drained();
          await turn();
        }
      } catch (e) {
        // an element that throws only the second time: the frame is still completed below
        failed = e;
      }
      if (written < total && !this.closed) put(Buffer.alloc(total - written, 0x20));
      if (failed !== undefined) throw failed;
      if (made !== total) this.fireError(new Error(`a streamed message gave ${made} bytes, not the ${total} counted first (sent as ${total})`), msg, this.errorCount);
      await last;
    } catch (e) {
      this.errorCount++;
      this.fireError(e as Error, msg, this.errorCount);
      throw e;
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('close', done);
        this.out.off('error', done);
        resolve();
      };
      this.out.once('drain', done);
      this.out.once('close', done);
      this.out.once('error', done);
    });
  }
}

/**
 * KVM_LENS_TRANSPORT (tests, diagnosis): `jsonrpc` reads with vscode-jsonrpc's own StreamMessageReader; else
 * comma-separated `name=number` overrides of IncrementalReaderOptions (`streamMin=0,bigString=16,pieceBytes=64`).
 */
export function transportOptions(value: string | undefined): IncrementalReaderOptions | 'jsonrpc' {
  if (!value) return {};
  if (value.trim() === 'jsonrpc') return 'jsonrpc';
  const out: Record<string, number> = {};
  const known = new Set(['streamMin', 'bigString', 'pieceBytes', 'sliceMs', 'maxHeaderBytes', 'partialMessageTimeout']);
  for (const item of value.split(',')) {
    const [k, v] = item.split('=').map((x) => x.trim());
    const n = Number(v);
    if (k && known.has(k) && v !== '' && Number.isFinite(n) && n >= 0) out[k] = n;
  }
  return out as IncrementalReaderOptions;
}

type TransportArg = { kind: 'ipc' } | { kind: 'stdio' } | { kind: 'socket'; port: number } | { kind: 'pipe'; name: string };

/** The transport named on the command line, read as vscode-languageserver reads it (the first one wins). */
export function transportArg(args: string[]): TransportArg | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--node-ipc') return { kind: 'ipc' };
    if (a === '--stdio') return { kind: 'stdio' };
    const [key, value] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, args[i + 1]];
    if (key === '--socket') {
      const port = parseInt(value ?? '');
      return port ? { kind: 'socket', port } : undefined;
    }
    if (key === '--pipe') return value ? { kind: 'pipe', name: value } : undefined;
  }
  return undefined;
}

/**
 * The server's connection. Over stdio, a pipe or a socket, messages are read by IncrementalMessageReader; over
 * Node IPC (`--node-ipc`, VS Code's TransportKind.ipc) Node itself parses each message, as before.
 *
 * Handing vscode-languageserver a reader skips two things it does for `--stdio`, done here the same way: the
 * server exits when its input ends (code 0 after a `shutdown` request, else 1), and `console.*` goes to the
 * client as log messages instead of corrupting stdout.
 */
export function createServerConnection(argv: string[] = process.argv, env: NodeJS.ProcessEnv = process.env): Connection {
  const t = transportArg(argv.slice(2));
  const options = transportOptions(env.KVM_LENS_TRANSPORT);
  if (!t || t.kind === 'ipc' || options === 'jsonrpc') return createConnection(ProposedFeatures.all);
  let shutdown = false;
  let reader: IncrementalMessageReader;
  let writer: MessageWriter;
  if (t.kind === 'stdio') {
    reader = new IncrementalMessageReader(process.stdin, options);
    writer = new StreamingMessageWriter(process.stdout);
  } else {
    const socket: Socket = t.kind === 'pipe' ? netConnect(t.name) : netConnect(t.port, '127.0.0.1');
    reader = new IncrementalMessageReader(socket, options);
    writer = new StreamingMessageWriter(socket);
  }
  reader.observe = (m) => {
    if ((m as { method?: unknown }).method === 'shutdown') shutdown = true;
  };
  const connection = createConnection(ProposedFeatures.all, reader, writer);
  if (t.kind === 'stdio') {
    reader.onClose(() => {
      try {
        writer.end();
      } catch {
        /* the client is gone */
      }
      process.exit(shutdown ? 0 : 1);
    });
    const to = (kind: 'log' | 'info' | 'warn' | 'error') => (...args: unknown[]) => connection.console[kind](format(...args));
    console.log = to('log');
    console.info = to('info');
    console.debug = to('log');
    console.warn = to('warn');
    console.error = to('error');
    console.trace = to('log');
    console.dir = (v: unknown) => connection.console.log(format('%O', v));
  }
  return connection;
}
