/**
 * The cache key: content-addressed, so a chunk is found again whatever id a client gives it. It is a
 * SHA-256 over what decides the vector: the model's identity (the checksums of the graph and tokenizer
 * files actually loaded), the sequence length the workers cut at, the computation (how a text becomes
 * one vector: today `truncate`; a future long-input mode adds its own name), and the exact text the
 * workers are given. Two settings that could give different vectors can never share a key.
 */
import { createHash } from 'node:crypto';

/** Everything besides the text that decides a vector. */
export interface CacheIdentity {
  /** The model's name (MODEL_ID). */
  model: string;
  /** `EMBEDDING_MODEL_VARIANT`, for the logs; the graph file's checksum below is what tells the variants apart. */
  variant: string;
  /** The loaded files' SHA-256 checksums, by file name (the graph and tokenizer.json). */
  files: Readonly<Record<string, string>>;
  /** EMBEDDING_MAX_SEQ_LENGTH. */
  maxSeqLength: number;
  /** How a text becomes one vector; bump it (or name a new mode) whenever the computation changes. */
  computation: string;
}

/** Today's computation: a text is cut at the sequence length, mean-pooled and L2-normalised. */
export const DEFAULT_COMPUTATION = 'truncate/mean-pool/l2/v1';

/** A 32-byte digest of the identity, the prefix every key is hashed with. Field order never matters. */
export function identityDigest(identity: CacheIdentity): Buffer {
  const files = Object.keys(identity.files)
    .sort()
    .map((name) => [name, identity.files[name]]);
  const canonical = JSON.stringify({
    model: identity.model,
    variant: identity.variant,
    files,
    maxSeqLength: identity.maxSeqLength,
    computation: identity.computation,
  });
  return createHash('sha256').update(canonical).digest();
}

/** The key of one text under an identity digest: 32 bytes. */
export function cacheKey(identity: Buffer, text: string): Buffer {
  return createHash('sha256').update(identity).update(text, 'utf8').digest();
}
