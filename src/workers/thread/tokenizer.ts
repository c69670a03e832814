import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { CLS_TOKEN, MAX_POSITION_EMBEDDINGS, MAX_SEQ_LENGTH, SEP_TOKEN } from '../../model/spec.js';
import { useFastWordPiece } from './wordpiece.js';

/** First prefix tried for long texts; grows 4× until it yields enough word pieces. */
const FIRST_WINDOW_CHARS = 4096;

export interface ModelInput {
  /** Token ids as the model sees them: [CLS] … [SEP], at most the tokenizer's maxSeqLength. */
  ids: number[];
  /** Whether word pieces were cut off to fit maxSeqLength. */
  truncated: boolean;
}

/**
 * Uncased WordPiece encoding with sentence-transformers' truncation: the text's word pieces are cut
 * to maxSeqLength - 2, then wrapped in [CLS] … [SEP] (what HF tokenizers' post-processor does).
 */
export class ModelTokenizer {
  readonly #tokenizer: Tokenizer;
  readonly #cls: number;
  readonly #sep: number;
  /** Word pieces of content kept: maxSeqLength less [CLS] and [SEP]. */
  readonly #contentTokens: number;
  /** Whether the library's WordPiece search was replaced by the bounded one (wordpiece.ts): same ids, less time. */
  readonly fastWordPiece: boolean;

  /** `maxSeqLength`: EMBEDDING_MAX_SEQ_LENGTH, [CLS] and [SEP] included; sentence-transformers' 256 by default. */
  constructor(tokenizerJson: object, readonly maxSeqLength = MAX_SEQ_LENGTH) {
    if (!Number.isInteger(maxSeqLength) || maxSeqLength < 3 || maxSeqLength > MAX_POSITION_EMBEDDINGS) {
      throw new RangeError(`maxSeqLength must be an integer from 3 to ${MAX_POSITION_EMBEDDINGS} (the model's position embeddings), not ${maxSeqLength}`);
    }
    this.#contentTokens = maxSeqLength - 2;
    this.#tokenizer = new Tokenizer(tokenizerJson, {});
    this.fastWordPiece = useFastWordPiece(this.#tokenizer);
    this.#cls = this.#idOf(CLS_TOKEN);
    this.#sep = this.#idOf(SEP_TOKEN);
  }

  static fromFile(path: string, maxSeqLength = MAX_SEQ_LENGTH): ModelTokenizer {
    return new ModelTokenizer(JSON.parse(readFileSync(path, 'utf8')) as object, maxSeqLength);
  }

  encode(text: string): ModelInput {
    const pieces = this.#contentPieces(text);
    const truncated = pieces.length > this.#contentTokens;
    const kept = truncated ? pieces.slice(0, this.#contentTokens) : pieces;
    return { ids: [this.#cls, ...kept, this.#sep], truncated };
  }

  /** Word pieces of the whole text, without [CLS] and [SEP], uncut: for cutting long texts into windows (windows.ts). */
  countPieces(text: string): number {
    return this.#pieces(text).length;
  }

  /**
   * Word pieces of the text, or of a prefix of it when that prefix already yields more than the model
   * keeps: a multi-megabyte chunk should not cost a full tokenization. The prefix ends just before a
   * whitespace character, a boundary no BERT normalizer or pre-tokenizer step crosses, so the pieces
   * it yields are exactly the first pieces of the whole text. Only ASCII whitespace counts: other
   * characters JavaScript calls whitespace (U+FEFF, say) are removed by BERT's normalizer and would
   * join the words on either side.
   */
  #contentPieces(text: string): number[] {
    for (let window = FIRST_WINDOW_CHARS; window < text.length; window *= 4) {
      const cut = lastWhitespaceAtOrBefore(text, window);
      if (cut <= 0) break;
      const ids = this.#pieces(text.slice(0, cut));
      if (ids.length > this.#contentTokens) return ids;
    }
    return this.#pieces(text);
  }

  #pieces(text: string): number[] {
    return this.#tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  #idOf(token: string): number {
    const id = this.#tokenizer.token_to_id(token);
    if (id === undefined) throw new Error(`tokenizer.json has no ${token} token; is it a BERT WordPiece tokenizer?`);
    return id;
  }
}

const ASCII_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

function lastWhitespaceAtOrBefore(text: string, index: number): number {
  for (let i = Math.min(index, text.length - 1); i > 0; i--) {
    if (ASCII_WHITESPACE.has(text.charCodeAt(i))) return i;
  }
  return -1;
}
