/**
 * Cutting a long text into windows of at most `contentTokens` word pieces that overlap a little, on boundaries where
 * tokenizing a window's text gives exactly the word pieces it covers in the whole text: each window is then an
 * ordinary model input with its own [CLS] and [SEP], and an independent tokenizer given `text.slice(start, end)` sees
 * what the service saw.
 *
 * Such boundaries are where BERT's normalizer and pre-tokenizer never join two sides: next to ASCII whitespace or
 * punctuation or a CJK ideograph (each is a word of its own). The text is taken line by line (windows of whole
 * lines are what a caller wants to point at in code); a line longer than a window is halved at the whitespace nearest
 * its middle, else at punctuation or CJK, and only a run of letters and digits longer than a window is cut inside a word,
 * where the second half's first piece is no longer a continuation piece (such a window may tokenize to a few more
 * pieces than counted here; the worker then truncates it as any text, and says so).
 *
 * Pure: `countPieces` is the tokenizer, so the cutting is tested without the model.
 */
import type { TextWindow, TextWindows, WindowSpec } from '../window-result.js';

/** A stretch of the text that goes into a window whole. */
interface Unit {
  start: number;
  end: number;
  pieces: number;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const UNICODE_PUNCT = /^[\p{P}\p{Zs}]$/u;
/**
 * A character no word piece crosses: punctuation (every non-alphanumeric printable ASCII character, and Unicode's P
 * categories) and CJK ideographs (_is_chinese_char's ranges in the Basic Multilingual Plane) are words of their own,
 * and Unicode's space separators (Zs) are whitespace to BERT.
 */
const isOwnWord = (c: number) =>
  (c >= 33 && c <= 47) ||
  (c >= 58 && c <= 64) ||
  (c >= 91 && c <= 96) ||
  (c >= 123 && c <= 126) ||
  (c >= 0x4e00 && c <= 0x9fff) ||
  (c >= 0x3400 && c <= 0x4dbf) ||
  (c >= 0xf900 && c <= 0xfaff) ||
  (c > 127 && UNICODE_PUNCT.test(String.fromCharCode(c)));

export function cutWindows(text: string, countPieces: (text: string) => number, spec: WindowSpec): TextWindows {
  const limit = Math.max(1, spec.contentTokens);
  const overlap = Math.max(0, Math.min(spec.overlap, limit - 1));
  const maxWindows = Math.max(1, spec.maxWindows);
  const source = units(text, countPieces, limit);
  const seen: Unit[] = [];
  let done = false;
  /** Whether unit `i` exists, reading the text only as far as needed: a huge text past the bound is never tokenized. */
  const has = (i: number): boolean => {
    while (seen.length <= i && !done) {
      const next = source.next();
      if (next.done) done = true;
      else seen.push(next.value);
    }
    return i < seen.length;
  };

  const windows: TextWindow[] = [];
  let cut = false;
  for (let from = 0; ; ) {
    let to = from;
    let pieces = 0;
    while (has(to) && pieces + seen[to]!.pieces <= limit) pieces += seen[to++]!.pieces;
    // Every unit holds at most `limit` pieces, so a window always takes one; a text with none is one empty window.
    if (to === from && has(to)) pieces += seen[to++]!.pieces;
    if (from === 0 && !has(to)) return { windows: [{ start: 0, end: text.length, pieces }], cut: false };
    windows.push({ start: seen[from]!.start, end: seen[to - 1]!.end, pieces });
    if (!has(to)) break;
    if (windows.length === maxWindows) {
      cut = true;
      break;
    }
    // The next window starts with the last units of this one that together hold at most `overlap` pieces, and leave
    // room for the unit after them: every window brings something new.
    let next = to;
    let repeated = 0;
    const room = Math.min(overlap, limit - seen[to]!.pieces);
    while (next - 1 > from && repeated + seen[next - 1]!.pieces <= room) repeated += seen[--next]!.pieces;
    from = next;
  }
  return { windows, cut };
}

/** The text's lines with content, trimmed, each split further while it holds more than `limit` pieces. */
function* units(text: string, countPieces: (text: string) => number, limit: number): Generator<Unit> {
  for (let lineStart = 0; lineStart < text.length; ) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    let start = lineStart;
    let end = lineEnd;
    while (start < end && isSpace(text.charCodeAt(start))) start++;
    while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
    lineStart = lineEnd + 1;
    if (start === end) continue;
    const pieces = countPieces(text.slice(start, end));
    if (pieces === 0) continue; // characters the normalizer removes (controls, zero-width marks)
    yield* fitted(text, start, end, pieces, countPieces, limit);
  }
}

function* fitted(text: string, start: number, end: number, pieces: number, countPieces: (text: string) => number, limit: number): Generator<Unit> {
  if (pieces <= limit || end - start < 2) {
    yield { start, end, pieces };
    return;
  }
  const at = splitPoint(text, start, end);
  for (const [from, to] of [[start, at], [at, end]] as const) {
    let s = from;
    let e = to;
    while (s < e && isSpace(text.charCodeAt(s))) s++;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    if (s === e) continue;
    const count = countPieces(text.slice(s, e));
    if (count > 0) yield* fitted(text, s, e, count, countPieces, limit);
  }
}

/**
 * Where to halve [start, end): the whitespace nearest the middle, else the nearest side of a punctuation mark or CJK
 * ideograph, else the middle itself (never between the two halves of a surrogate pair).
 */
function splitPoint(text: string, start: number, end: number): number {
  const middle = start + Math.floor((end - start) / 2);
  const nearest = (ok: (i: number) => boolean): number => {
    for (let d = 0; middle - d > start || middle + d < end; d++) {
      if (middle - d > start && ok(middle - d)) return middle - d;
      if (middle + d < end && ok(middle + d)) return middle + d;
    }
    return -1;
  };
  const space = nearest((i) => isSpace(text.charCodeAt(i)));
  if (space !== -1) return space;
  const punct = nearest((i) => isOwnWord(text.charCodeAt(i)) || isOwnWord(text.charCodeAt(i - 1)));
  if (punct !== -1) return punct;
  const high = text.charCodeAt(middle - 1);
  return high >= 0xd800 && high <= 0xdbff ? middle + 1 : middle;
}
