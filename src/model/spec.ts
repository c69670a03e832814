/**
 * Facts about the model itself, in one place: what the service serves and what
 * its tokenizer and graph expect. Values only; no I/O.
 */

/** Hugging Face repository id: the name clients see in answers and the Hub path the files come from. */
export const MODEL_ID = 'sentence-transformers/all-MiniLM-L6-v2';
/** Width of every embedding: the graph's hidden size, which no request can change. */
export const DIMENSIONS = 384;
/**
 * sentence-transformers' max_seq_length, [CLS] and [SEP] included (tokenizer.json's own truncation says 128; we follow
 * sentence-transformers): the default of EMBEDDING_MAX_SEQ_LENGTH.
 */
export const MAX_SEQ_LENGTH = 256;
/**
 * The graph's position-embedding table (config.json's max_position_embeddings): no sequence can be longer, so this is
 * EMBEDDING_MAX_SEQ_LENGTH's ceiling. The original Python worker truncated here, at 512, so 512 reproduces its vectors.
 */
export const MAX_POSITION_EMBEDDINGS = 512;
/** Opens every sequence; the tokenizer adds it, so a text's token count is its word pieces plus two. */
export const CLS_TOKEN = '[CLS]';
/** Closes every sequence, after truncation, so a cut text still ends the way the model was trained on. */
export const SEP_TOKEN = '[SEP]';
/** Fills a batch's shorter rows up to its longest; the attention mask keeps it out of the mean pooling. */
export const PAD_TOKEN = '[PAD]';
/** Stands for a word that WordPiece cannot split into vocabulary pieces. */
export const UNK_TOKEN = '[UNK]';

/**
 * What one batch costs a worker in memory, by its shape: about `perRow` bytes per row, `perToken` per
 * token (rows × padded length: activations, the output hidden state) and `perAttentionCell` per
 * attention cell (rows × padded²: each layer's attention scores for all heads). That is what a fresh
 * ONNX session holds after running the shape (the first run grows it by about half, the second by as
 * much again, as onnxruntime allocates the memory pattern it planned), and it keeps it until its
 * worker is recycled. Fitted to measurements on the real model, one intra-op thread (`npm run
 * bench:batch-memory` → models/batch-memory.json), and rounded up: test/batch-memory.test.ts checks
 * that it never predicts less than 0.9× of any measured shape that held 4 MiB or more.
 */
export const BATCH_MEMORY = { perRow: 256 * 1024, perToken: 24 * 1024, perAttentionCell: 160 } as const;

/** Predicted memory a worker holds after running a batch of `rows` × `padded` tokens on a fresh session. */
export function batchMemoryBytes(rows: number, padded: number): number {
  return Math.ceil(rows * (BATCH_MEMORY.perRow + padded * (BATCH_MEMORY.perToken + BATCH_MEMORY.perAttentionCell * padded)));
}

/**
 * The most memory any batch the planner may form can cost: at most `batchSize` rows, and rows ×
 * padded length within `maxBatchTokens` (a single row may exceed it). With the quadratic attention
 * term, full-length rows (`maxSeqLength`: EMBEDDING_MAX_SEQ_LENGTH) are the worst per token, so that
 * is the shape that bounds it.
 */
export function largestBatchBytes(batchSize: number, maxBatchTokens: number, maxSeqLength = MAX_SEQ_LENGTH): number {
  const fullRows = Math.max(1, Math.min(batchSize, Math.floor(maxBatchTokens / maxSeqLength)));
  const shortest = Math.max(1, Math.min(maxSeqLength, Math.floor(maxBatchTokens / batchSize)));
  return Math.max(batchMemoryBytes(fullRows, maxSeqLength), batchMemoryBytes(batchSize, shortest));
}
