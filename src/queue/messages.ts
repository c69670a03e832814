import type { EmbeddedRows } from '../core/batch-runner.js';
import type { EmbedRequest } from '../core/embed-request.js';
import { vectorBase64, vectorJson } from '../core/vector-encoding.js';
import type { VectorEncoding } from './subjects.js';

/**
 * A job's result: /embed's JSON response, byte for byte the same layout (`batch_id`, `vectors`, `model`, `dimensions`,
 * `usage`, `timing_ms`), with each `vector` a base64 string of little-endian float32 when the job asked for base64.
 */
export function resultBody(request: EmbedRequest, rows: EmbeddedRows, encoding: VectorEncoding, modelId: string, timingMs: number): string {
  let tokens = 0;
  const vectors: string[] = [];
  for (let i = 0; i < request.chunks.length; i++) {
    tokens += rows.tokens[i]!;
    const encode = (v: Float32Array, row: number) => (encoding === 'base64' ? `"${vectorBase64({ vectors: v, dims: rows.dims }, row)}"` : vectorJson(v, row, rows.dims));
    // long_input windows: each chunk's windows, with their ranges, as /embed gives them.
    const windows = rows.windows?.[i]?.map((w) => `{"start":${w.start},"end":${w.end},"tokens":${w.tokens},"vector":${encode(w.vector, 0)}}`);
    const extra = windows ? `,"windows":[${windows.join(',')}]` : '';
    vectors.push(`{"chunk_id":${JSON.stringify(request.chunks[i]!.chunk_id)},"vector":${encode(rows.vectors, i)},"tokens":${rows.tokens[i]!},"truncated":${rows.truncated[i] === 1}${extra}}`);
  }
  return (
    `{"batch_id":${JSON.stringify(request.batch_id)},"vectors":[${vectors.join(',')}],"model":${JSON.stringify(modelId)},` +
    `"dimensions":${rows.dims},"usage":{"chunks":${request.chunks.length},"tokens":${tokens},"cached_chunks":${rows.cached ?? 0}},"timing_ms":${timingMs}}`
  );
}

/** A job that failed for good: its batch id and /embed's error shape, on the results subject so a collector stops waiting. */
export function failureBody(batchId: string, code: string, message: string): string {
  return JSON.stringify({ batch_id: batchId, error: { code, message } });
}
