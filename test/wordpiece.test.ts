import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import test from 'ava';
import fc from 'fast-check';
import { defaultModelDir } from '../src/model/files.js';
import { ModelTokenizer } from '../src/workers/thread/tokenizer.js';
import { pieceVocabulary, pushWordPieces, useFastWordPiece } from '../src/workers/thread/wordpiece.js';

const tokenizerJson = JSON.parse(readFileSync(path.join(defaultModelDir(), 'tokenizer.json'), 'utf8')) as object;
const library = new Tokenizer(tokenizerJson, {});
const patched = new Tokenizer(tokenizerJson, {});
const applied = useFastWordPiece(patched);
const ids = (t: Tokenizer, text: string) => t.encode(text, { add_special_tokens: false }).ids;

// Long runs without punctuation or spaces are where the two searches differ most in work.
const identifier = fc.stringMatching(/^[A-Za-z0-9_]{1,130}$/);
const mixedText = fc.array(
  fc.oneof(
    identifier,
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom(' ', '\n', '\t', '.', '##', '[MASK]', '[CLS]', 'Café', 'naïve', '北京', '😀emoji😀', 'x'.repeat(101), 'ǅungla'),
  ),
  { maxLength: 24 },
).map((parts) => parts.join(''));

test('the service tokenizer uses the bounded WordPiece search with the pinned library', (t) => {
  t.true(applied);
  t.true(ModelTokenizer.fromFile(path.join(defaultModelDir(), 'tokenizer.json')).fastWordPiece);
});

test('the bounded search gives the library’s ids for any text', (t) => {
  fc.assert(
    fc.property(mixedText, (text) => {
      t.deepEqual(ids(patched, text), ids(library, text), JSON.stringify(text));
    }),
    { numRuns: 1500 },
  );
});

test('a base64-like blob: same ids as the library', (t) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const blob = Array.from({ length: 8 }, (_, w) => Array.from({ length: 90 }, (_, i) => alphabet[(w * 131 + i * i * 7) % alphabet.length]).join('')).join('+');
  t.deepEqual(ids(patched, blob), ids(library, blob));
});

test('pushWordPieces: longest match first, continuation pieces, unknown words whole', (t) => {
  const vocab = pieceVocabulary(['[UNK]', 'un', 'unaff', '##aff', '##able', '##a', 'x', '😀', '##😀'], '##', '[UNK]', 10);
  const pieces = (word: string) => {
    const out = ['kept'];
    pushWordPieces(word, vocab, out);
    return out.slice(1);
  };
  t.deepEqual(pieces('unaffable'), ['unaff', '##able']);
  t.deepEqual(pieces('una'), ['un', '##a']);
  t.deepEqual(pieces('unz'), ['[UNK]']);
  t.deepEqual(pieces('x'.repeat(11)), ['[UNK]']);
  // Astral characters count as one character each, as in the library.
  t.deepEqual(pieces('😀😀'), ['😀', '##😀']);
  t.deepEqual(pieces('😀'.repeat(10)), ['😀', ...Array<string>(9).fill('##😀')]);
  t.deepEqual(pieces('😀'.repeat(11)), ['[UNK]']);
});

test('useFastWordPiece leaves a tokenizer it does not recognise alone', (t) => {
  const other = { model: { config: { type: 'BPE' }, encode: () => ['a'] } };
  t.false(useFastWordPiece(other));
  t.deepEqual(other.model.encode(), ['a']);
  t.false(useFastWordPiece({}));
});
