/**
 * Splits a command line typed in the "Capture a VMM run" input box into argv, the way a POSIX shell splits
 * words (single quotes, double quotes with \" \\ \$ \` escapes, backslash outside quotes). Shell operators
 * (pipes, redirections, `;`, `&&`, `$(...)`) are not run: the capture runs one program, so they are reported.
 * Pure, unit-tested.
 */
export type SplitResult = { ok: true; argv: string[] } | { ok: false; error: string };

export function splitCommandLine(text: string): SplitResult {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { ok: false, error: `unterminated single quote at column ${i + 1}` };
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let closed = false;
      while (j < n) {
        const d = text[j];
        if (d === '"') {
          closed = true;
          break;
        }
        if (d === '\\' && j + 1 < n && '"\\$`\n'.includes(text[j + 1])) {
          if (text[j + 1] !== '\n') word += text[j + 1];
          j += 2;
          continue;
        }
        if (d === '$' || d === '`') return { ok: false, error: `shell expansion (${d}) at column ${j + 1} is not supported: type the value itself` };
        word += d;
        j++;
      }
      if (!closed) return { ok: false, error: `unterminated double quote at column ${i + 1}` };
      inWord = true;
      i = j + 1;
      continue;
    }
    if (c === '\\') {
      if (i + 1 < n) {
        if (text[i + 1] !== '\n') word += text[i + 1];
        inWord = true;
      }
      i += 2;
      continue;
    }
    if ('|&;<>()'.includes(c)) return { ok: false, error: `shell operator '${c}' at column ${i + 1} is not supported: the capture runs one program` };
    if (c === '$' || c === '`') return { ok: false, error: `shell expansion (${c}) at column ${i + 1} is not supported: type the value itself` };
    if (c === '~' && !inWord && process.env.HOME) {
      word += process.env.HOME;
      inWord = true;
      i++;
      continue;
    }
    word += c;
    inWord = true;
    i++;
  }
  if (inWord) argv.push(word);
  if (argv.length === 0) return { ok: false, error: 'empty command line' };
  return { ok: true, argv };
}
