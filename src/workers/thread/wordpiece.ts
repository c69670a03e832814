/**
 * A faster WordPiece step for @huggingface/tokenizers, with the same output.
 *
 * The library's WordPiece model looks for the longest vocabulary entry at each position by trying
 * every end from the end of the word down, building each candidate with `chars.slice().join()`: a
 * long identifier (code is full of them) costs a quadratic number of string builds, and that loop
 * was half of all tokenization time on the benchmark corpus. No entry is longer than the longest
 * one in the vocabulary, so the search here starts there and cuts candidates straight out of the
 * word; every other step (normalizer, pre-tokenizer, special tokens, ids) stays the library's.
 */

/** The parts of the library's WordPiece model this replaces; checked before it is touched. */
interface WordPieceModel {
  config: { type?: string; continuing_subword_prefix?: string };
  tokens_to_ids: Map<string, number>;
  unk_token: string;
  max_input_chars_per_word: number;
  encode(words: string[]): string[];
}

function isWordPiece(model: unknown): model is WordPieceModel {
  const m = model as Partial<WordPieceModel> | null;
  // The library's models are callable objects (functions), which call their own `encode`.
  return (
    (typeof m === 'object' || typeof m === 'function') &&
    m !== null &&
    m.config?.type === 'WordPiece' &&
    m.tokens_to_ids instanceof Map &&
    typeof m.unk_token === 'string' &&
    typeof m.max_input_chars_per_word === 'number' &&
    typeof m.encode === 'function'
  );
}

/** The vocabulary split for the search: word-initial entries, and continuation entries by their body. */
export interface PieceVocabulary {
  initial: ReadonlySet<string>;
  /** Body (without the continuation prefix) → the entry as the vocabulary spells it. */
  continuing: ReadonlyMap<string, string>;
  unk: string;
  maxWordChars: number;
  /** Code points in the longest entry: no longer candidate can match. */
  maxPieceChars: number;
}

export function pieceVocabulary(entries: Iterable<string>, prefix: string, unk: string, maxWordChars: number): PieceVocabulary {
  const initial = new Set<string>();
  const continuing = new Map<string, string>();
  let maxPieceChars = 0;
  for (const entry of entries) {
    initial.add(entry);
    if (entry.startsWith(prefix)) continuing.set(entry.slice(prefix.length), entry);
    maxPieceChars = Math.max(maxPieceChars, [...entry].length);
  }
  return { initial, continuing, unk, maxWordChars, maxPieceChars };
}

/**
 * Greedy longest-match-first WordPiece over one word, as BERT and the library do, appended to
 * `out`: the whole word becomes the unknown token when it is too long or some position matches
 * nothing. Characters are code points, as the library counts them.
 */
export function pushWordPieces(word: string, vocab: PieceVocabulary, out: string[]): void {
  let offsets: number[] | undefined;
  // Most words have no astral characters; then code points are code units and no offsets are needed.
  for (let i = 0; i < word.length; i++) {
    const unit = word.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      offsets = [];
      for (let j = 0; j < word.length; j += (word.codePointAt(j) ?? 0) > 0xffff ? 2 : 1) offsets.push(j);
      offsets.push(word.length);
      break;
    }
  }
  const chars = offsets ? offsets.length - 1 : word.length;
  if (chars > vocab.maxWordChars) {
    out.push(vocab.unk);
    return;
  }
  const first = out.length;
  for (let start = 0; start < chars; ) {
    let found: string | undefined;
    let end = Math.min(chars, start + vocab.maxPieceChars);
    for (; end > start; end--) {
      const piece = offsets ? word.slice(offsets[start], offsets[end]) : word.slice(start, end);
      found = start === 0 ? (vocab.initial.has(piece) ? piece : undefined) : vocab.continuing.get(piece);
      if (found !== undefined) break;
    }
    if (found === undefined) {
      out.length = first;
      out.push(vocab.unk);
      return;
    }
    out.push(found);
    start = end;
  }
}

/**
 * Replaces the WordPiece model's `encode` of a library Tokenizer with `pushWordPieces`. Returns false,
 * leaving the tokenizer as it was, when its model is not the WordPiece shape this was written for
 * (another tokenizer.json, or a library version that changed its internals).
 */
export function useFastWordPiece(tokenizer: object): boolean {
  const model = (tokenizer as { model?: unknown }).model;
  if (!isWordPiece(model)) return false;
  const vocab = pieceVocabulary(model.tokens_to_ids.keys(), model.config.continuing_subword_prefix ?? '##', model.unk_token, model.max_input_chars_per_word);
  model.encode = (words: string[]): string[] => {
    const out: string[] = [];
    for (const word of words) pushWordPieces(word, vocab, out);
    return out;
  };
  return true;
}
