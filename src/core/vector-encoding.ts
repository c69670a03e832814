import os from 'node:os';
import type { EmbeddedRows } from './batch-runner.js';

// How a vector is written on the wire, shared by every way in (HTTP /embed and /v1/embeddings, the queue's results),
// so the same chunk gives the same text whichever way it came.
const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * A float32 vector as a JSON array. Each element is printed as the shortest decimal that reads back
 * as the same double, which is what Python's json does for the original service's `tolist()` output.
 */
export function vectorJson(vectors: Float32Array, index: number, dims: number): string {
  const start = index * dims;
  let out = '[';
  for (let d = 0; d < dims; d++) {
    if (d > 0) out += ',';
    out += vectors[start + d];
  }
  return out + ']';
}

/** One vector as little-endian float32 bytes in base64, as OpenAI's `encoding_format: "base64"`. */
export function vectorBase64(result: Pick<EmbeddedRows, 'vectors' | 'dims'>, index: number): string {
  const bytes = Buffer.from(result.vectors.buffer, result.vectors.byteOffset + index * result.dims * 4, result.dims * 4);
  return (LITTLE_ENDIAN ? bytes : Buffer.from(bytes).swap32()).toString('base64');
}
