import test from 'ava';
import fc from 'fast-check';
import { allocateRows } from '../src/core/batch-runner.js';
import { expandTexts, WindowMerger, type Expansion } from '../src/core/long-input.js';
import { ConfigError, parseConfig } from '../src/config.js';
import { packWindows, unpackWindows, type TextWindows, type WindowSpec } from '../src/workers/window-result.js';
import { cutWindows } from '../src/workers/thread/windows.js';

/**
 * long_input's pure parts (issue 15): where texts are cut into windows, with a stand-in tokenizer that counts BERT's
 * pre-tokenizer words (a punctuation mark or CJK ideograph is one piece, and so is any run of other non-space characters), and how window
 * vectors merge back into one entry per text. The real tokenizer and model: test/e2e/long-input.test.ts.
 */
const WORD = /[^\s\p{P}\u4e00-\u9fff]+|[\p{P}\u4e00-\u9fff]/gu;
const count = (text: string) => text.match(WORD)?.length ?? 0;
const spec = (contentTokens: number, overlap = 0, maxWindows = 100): WindowSpec => ({ contentTokens, overlap, maxWindows });

test('a text that fits one window is one window: the whole text', (t) => {
  t.deepEqual(cutWindows('def f():\n    return 1\n', count, spec(20)), { windows: [{ start: 0, end: 22, pieces: 7 }], cut: false });
  t.deepEqual(cutWindows('', count, spec(20)), { windows: [{ start: 0, end: 0, pieces: 0 }], cut: false });
  t.deepEqual(cutWindows('  \n\n ', count, spec(20)), { windows: [{ start: 0, end: 5, pieces: 0 }], cut: false });
});

test('windows are whole lines, within the bound, overlapping by at most the overlap', (t) => {
  const lines = Array.from({ length: 40 }, (_, i) => `    line ${i} of code`);
  const text = lines.join('\n');
  const { windows, cut } = cutWindows(text, count, spec(20, 8));
  t.false(cut);
  let previous: { start: number; end: number } | undefined;
  for (const w of windows) {
    t.true(w.pieces <= 20);
    t.is(count(text.slice(w.start, w.end)), w.pieces);
    // Whole lines: from a line's first non-space character to its end.
    t.regex(text.slice(0, w.start), /(^|\n) {4}$/);
    t.true(w.end === text.length || text[w.end] === '\n');
    if (previous) {
      t.true(w.start > previous.start);
      const repeated = previous.end > w.start ? count(text.slice(w.start, previous.end)) : 0;
      t.true(repeated <= 8);
      t.true(repeated > 0, 'lines of 4 pieces fit an overlap of 8');
    }
    previous = w;
  }
  t.is(windows[0]!.start, 4);
  t.is(windows.at(-1)!.end, text.length);
});

test('no overlap asked, none given; each line lands in exactly one window', (t) => {
  const text = Array.from({ length: 30 }, (_, i) => `x${i} = ${i}`).join('\n');
  const { windows } = cutWindows(text, count, spec(10, 0));
  for (let i = 1; i < windows.length; i++) t.true(windows[i]!.start > windows[i - 1]!.end);
  t.is(windows.reduce((s, w) => s + w.pieces, 0), count(text));
});

test('the bound cuts the text after maxWindows windows and says so', (t) => {
  const text = 'word '.repeat(10).concat('\n').repeat(20);
  const { windows, cut } = cutWindows(text, count, spec(10, 0, 3));
  t.true(cut);
  t.is(windows.length, 3);
  t.true(windows.at(-1)!.end < text.trimEnd().length);
  t.false(cutWindows(text, count, spec(10, 0, 20)).cut);
});

test('a line longer than a window is halved at whitespace, else beside punctuation', (t) => {
  const spaced = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
  const a = cutWindows(spaced, count, spec(16));
  t.true(a.windows.length > 1);
  for (const w of a.windows) {
    t.true(w.pieces <= 16);
    t.is(count(spaced.slice(w.start, w.end)), w.pieces);
    t.true(w.start === 0 || spaced[w.start - 1] === ' ');
  }
  const minified = Array.from({ length: 60 }, (_, i) => `a${i}=b${i};`).join('');
  const b = cutWindows(minified, count, spec(16));
  t.true(b.windows.length > 1);
  for (const w of b.windows) {
    t.true(w.pieces <= 16);
    t.is(count(minified.slice(w.start, w.end)), w.pieces);
  }
});

test('cutting, on arbitrary text: every window fits, re-counts to its pieces, and together they cover the text in order', (t) => {
  const alphabet = fc.constantFrom('a', 'b', 'é', '中', '😀', ' ', ' ', '\n', '\n', ';', '(', '\u00a0');
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 300 }).map((cs) => cs.join('')), fc.integer({ min: 2, max: 30 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 8 }), (text, limit, overlap, maxWindows) => {
      const { windows, cut } = cutWindows(text, count, spec(limit, overlap, maxWindows));
      if (count(text) <= limit) return windows.length === 1 && windows[0]!.start === 0 && windows[0]!.end === text.length && !cut;
      if (windows.length > maxWindows || (cut && windows.length !== maxWindows)) return false;
      let covered = 0;
      for (const [i, w] of windows.entries()) {
        if (w.pieces > limit || count(text.slice(w.start, w.end)) !== w.pieces) return false;
        if (i > 0 && (w.start <= windows[i - 1]!.start || w.end <= windows[i - 1]!.end)) return false;
        // No word is skipped between windows.
        if (count(text.slice(covered, w.start)) !== 0) return false;
        covered = w.end;
      }
      return cut || count(text.slice(covered)) === 0;
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('window results survive the trip from the worker', (t) => {
  const texts: TextWindows[] = [
    { windows: [{ start: 0, end: 5, pieces: 3 }], cut: false },
    { windows: [], cut: false },
    { windows: [{ start: 0, end: 900, pieces: 254 }, { start: 800, end: 1500, pieces: 200 }], cut: true },
  ];
  t.deepEqual(unpackWindows(packWindows(texts), 3), texts);
  t.throws(() => unpackWindows(packWindows(texts), 2));
});

test('only texts longer than a window in characters go to the workers; a one-window text stays itself', async (t) => {
  const asked: string[][] = [];
  const long = 'x '.repeat(200);
  const expansion = await expandTexts(['short', long, 'y '.repeat(300)], spec(254), async (texts) => {
    asked.push(texts);
    const two = [{ start: 0, end: 300, pieces: 150 }, { start: 250, end: 600, pieces: 175 }];
    return texts.map((text) => (text === long ? { windows: [{ start: 0, end: text.length, pieces: 200 }], cut: false } : { windows: two, cut: true }));
  });
  t.deepEqual(asked, [[long, 'y '.repeat(300)]]);
  t.is(expansion.rows[0], 'short');
  t.is(expansion.rows[1], long);
  t.deepEqual(expansion.rows.slice(2), ['y '.repeat(150), 'y '.repeat(300).slice(250, 600)]);
  t.deepEqual([...expansion.first], [0, 1, 2, 4]);
  t.deepEqual([...expansion.cut], [0, 0, 1]);
  t.deepEqual([...expansion.starts], [0, 0, 0, 250]);
});

test('texts are cut in tasks of at most 64, spread over the workers', async (t) => {
  const sizes: number[] = [];
  await expandTexts(Array<string>(150).fill('z '.repeat(200)), spec(254), async (texts) => {
    sizes.push(texts.length);
    return texts.map((text) => ({ windows: [{ start: 0, end: text.length, pieces: 200 }], cut: false }));
  });
  t.deepEqual(sizes, [64, 64, 22]);
});

/** Rows of 2 dimensions: text 0 one row, text 1 three rows (cut), text 2 one row. */
function example(): { expansion: Expansion; rows: ReturnType<typeof allocateRows> } {
  const expansion: Expansion = {
    rows: ['a', 'b1', 'b2', 'b3', 'c'],
    first: Int32Array.from([0, 1, 4, 5]),
    starts: Uint32Array.from([0, 0, 10, 20, 0]),
    ends: Uint32Array.from([1, 12, 22, 30, 1]),
    cut: Uint8Array.from([0, 1, 0]),
  };
  const rows = allocateRows(0, 5, 2);
  rows.vectors.set([0.6, 0.8, 1, 0, 0, 1, 1, 0, 0.1, 0.2]);
  rows.tokens.set([3, 100, 50, 50, 4]);
  return { expansion, rows };
}

test('merging: a one-row text keeps its vector as it came, a longer one gets the token-weighted mean, normalised', (t) => {
  const { expansion, rows } = example();
  const merged = new WindowMerger(expansion, 2, false).take(rows);
  t.is(merged.offset, 0);
  t.is(merged.count, 3);
  // Not normalised again: bit for bit the row (0.1, 0.2 has norm ≠ 1 and stays so).
  t.deepEqual([...merged.vectors.subarray(4, 6)], [...rows.vectors.subarray(8, 10)]);
  t.deepEqual([...merged.vectors.subarray(0, 2)], [...rows.vectors.subarray(0, 2)]);
  // (100·(1,0) + 50·(0,1) + 50·(1,0)) = (150, 50), normalised.
  const norm = Math.hypot(150, 50);
  t.deepEqual([...merged.vectors.subarray(2, 4)], [Math.fround(150 / norm), Math.fround(50 / norm)]);
  t.deepEqual([...merged.tokens], [3, 200, 4]);
  t.deepEqual([...merged.truncated], [0, 1, 0]);
  t.is(merged.windows, undefined);
});

test('merging pieces that split a text: each piece returns the texts it completes, the same as all at once', (t) => {
  const { expansion, rows } = example();
  const whole = new WindowMerger(expansion, 2, true).take(rows);
  const merger = new WindowMerger(expansion, 2, true);
  const piece = (offset: number, count: number) => {
    const part = allocateRows(offset, count, 2);
    part.vectors.set(rows.vectors.subarray(offset * 2, (offset + count) * 2));
    part.tokens.set(rows.tokens.subarray(offset, offset + count));
    return part;
  };
  const first = merger.take(piece(0, 2));
  const second = merger.take(piece(2, 1));
  const third = merger.take(piece(3, 2));
  t.deepEqual([first.offset, first.count, second.count, third.offset, third.count], [0, 1, 0, 1, 2]);
  t.deepEqual([...first.vectors, ...third.vectors], [...whole.vectors]);
  t.deepEqual([...first.tokens, ...third.tokens], [...whole.tokens]);
  t.deepEqual(third.windows![0]!.map((w) => [w.start, w.end, w.tokens]), [[0, 12, 100], [10, 22, 50], [20, 30, 50]]);
  t.deepEqual(first.windows![0]!.map((w) => [...w.vector]), [[...rows.vectors.subarray(0, 2)]]);
});

test('merging: a chunk counts as cached when every one of its windows came from the cache, across pieces too', (t) => {
  const { expansion, rows } = example();
  t.is(new WindowMerger(expansion, 2, false).take(rows).cached, undefined, 'no cache asked: nothing cached');
  // a cached; b1 and b3 cached but b2 computed; c cached.
  rows.cachedRows = Uint8Array.from([1, 1, 0, 1, 1]);
  t.is(new WindowMerger(expansion, 2, true).take(rows).cached, 2);
  const merger = new WindowMerger(expansion, 2, false);
  const piece = (offset: number, count: number) => ({ ...allocateRows(offset, count, 2), cachedRows: Uint8Array.from([1, 1, 1, 1, 1]).subarray(offset, offset + count) });
  t.is((merger.take(piece(0, 3)).cached ?? 0) + (merger.take(piece(3, 2)).cached ?? 0), 3, 'b split over two pieces, all of it cached');
});

test('EMBEDDING_LONG_INPUT and its settings are read and checked', (t) => {
  t.like(parseConfig({}), { longInput: 'truncate', windowOverlap: 32, maxWindowsPerChunk: 32 });
  t.like(parseConfig({ EMBEDDING_LONG_INPUT: 'mean', EMBEDDING_LONG_INPUT_OVERLAP: '0', EMBEDDING_MAX_WINDOWS_PER_CHUNK: '4' }), {
    longInput: 'mean',
    windowOverlap: 0,
    maxWindowsPerChunk: 4,
  });
  t.throws(() => parseConfig({ EMBEDDING_LONG_INPUT: 'split' }), { instanceOf: ConfigError, message: /EMBEDDING_LONG_INPUT/ });
  // The default follows a short sequence length down; a value set by hand is checked.
  t.like(parseConfig({ EMBEDDING_MAX_SEQ_LENGTH: '32' }), { windowOverlap: 3 });
  t.throws(() => parseConfig({ EMBEDDING_MAX_SEQ_LENGTH: '32', EMBEDDING_LONG_INPUT_OVERLAP: '32' }), { instanceOf: ConfigError, message: /below EMBEDDING_MAX_SEQ_LENGTH/ });
  t.throws(() => parseConfig({ EMBEDDING_LONG_INPUT_OVERLAP: '254' }), { instanceOf: ConfigError, message: /below EMBEDDING_MAX_SEQ_LENGTH/ });
  t.throws(() => parseConfig({ EMBEDDING_MAX_WINDOWS_PER_CHUNK: '0' }), { instanceOf: ConfigError });
});
