/** Messages between the bench's OrtPool and its worker threads (ort-worker.ts). */

export interface OrtWorkerData {
  graphPath: string;
  tokenizerPath: string;
  threads: number;
  /** Intra-op threads busy-wait when idle (onnxruntime's default) or sleep. */
  spin: boolean;
}

/** Pre-tokenized rows (the ceiling) or texts the worker tokenizes itself (as the service's worker does). */
export type OrtTask = ({ rows: number[][] } | { texts: string[] }) & { wantVectors?: boolean };

export interface OrtReply {
  id: number;
  tokenizeMs: number;
  inferMs: number;
  /** Padded tokens of the batch: rows × the longest row. */
  padded: number;
  vectors?: Float32Array | undefined;
}

export type OrtWorkerMessage = { ready: true } | OrtReply | { id: number; error: string };
