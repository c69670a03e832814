/**
 * The model's facts, stated once: every layer (schemas, health, planner, tokenizer, worker) reads
 * them from here.
 */

/** The Hugging Face id of the model whose vectors this service reproduces. */
export const MODEL_ID = 'sentence-transformers/all-MiniLM-L6-v2';

/** Width of the model's hidden state, so of every vector (mean pooling keeps it). */
export const DIMENSIONS = 384;

/** sentence-transformers' max_seq_length for this model, counting [CLS] and [SEP]: longer input is cut. */
export const MAX_SEQ_LENGTH = 256;

/** BERT's special tokens as named in tokenizer.json; [CLS] … [SEP] wrap every input. */
export const SPECIAL_TOKENS = { cls: '[CLS]', sep: '[SEP]', pad: '[PAD]', unk: '[UNK]' } as const;
