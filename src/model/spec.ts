/**
 * Facts about the model itself, in one place: what the service serves and what
 * its tokenizer and graph expect. Values only; no I/O.
 */

/** Hugging Face repository id: the name clients see in answers and the Hub path the files come from. */
export const MODEL_ID = 'sentence-transformers/all-MiniLM-L6-v2';
/** Width of every embedding: the graph's hidden size, which no request can change. */
export const DIMENSIONS = 384;
/** sentence-transformers' max_seq_length, [CLS] and [SEP] included (tokenizer.json's own truncation says 128; we follow sentence-transformers). */
export const MAX_SEQ_LENGTH = 256;
/** Opens every sequence; the tokenizer adds it, so a text's token count is its word pieces plus two. */
export const CLS_TOKEN = '[CLS]';
/** Closes every sequence, after truncation, so a cut text still ends the way the model was trained on. */
export const SEP_TOKEN = '[SEP]';
/** Fills a batch's shorter rows up to its longest; the attention mask keeps it out of the mean pooling. */
export const PAD_TOKEN = '[PAD]';
/** Stands for a word that WordPiece cannot split into vocabulary pieces. */
export const UNK_TOKEN = '[UNK]';
