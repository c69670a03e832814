/**
 * A batch's results packed into one ArrayBuffer, so the worker can transfer it to the main thread
 * without a copy (Piscina moves only a top-level transferable). Layout, for n texts of d dimensions:
 *   float32 vectors[n × d] | uint16 tokens[n] | uint8 truncated[n]
 */
export interface BatchResult {
  vectors: Float32Array;
  tokens: Uint16Array;
  truncated: Uint8Array;
}

export function allocateBatchResult(count: number, dims: number): { buffer: ArrayBuffer; view: BatchResult } {
  const buffer = new ArrayBuffer(count * dims * 4 + count * 2 + count);
  return { buffer, view: viewBatchResult(buffer, count, dims) };
}

export function viewBatchResult(buffer: ArrayBuffer, count: number, dims: number): BatchResult {
  const vectorBytes = count * dims * 4;
  const expected = vectorBytes + count * 3;
  if (buffer.byteLength !== expected) {
    throw new Error(`batch result holds ${buffer.byteLength} bytes, expected ${expected} for ${count} texts`);
  }
  return {
    vectors: new Float32Array(buffer, 0, count * dims),
    tokens: new Uint16Array(buffer, vectorBytes, count),
    truncated: new Uint8Array(buffer, vectorBytes + count * 2, count),
  };
}
