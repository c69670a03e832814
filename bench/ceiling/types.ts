/** The jobs bench/ceiling.ts runs (one per child process) and what each prints. */
import type { ModelVariant } from '../../src/model/files.js';

interface PoolJob {
  workers: number;
  threads: number;
  variant?: ModelVariant;
  spin?: boolean;
}

/**
 * The corpus through a pool of workers × threads. feed: 'rows' (pre-tokenized, the ceiling),
 * 'texts' (tokenized in the worker, as the service does) or 'main' (tokenized on the main thread
 * during the run). order: 'planned' (length-sorted, token budget, longest first), 'requests' (each
 * request of the HTTP mix planned on its own from estimated token counts, as the service plans) or
 * 'arrival32' (fixed 32 in arrival order, padded to the longest).
 */
export interface CorpusJob extends PoolJob {
  kind: 'corpus';
  size: number;
  reps: number;
  feed: 'rows' | 'texts' | 'main';
  order?: 'planned' | 'requests' | 'arrival32';
  budget?: number;
  maxBatch?: number;
  /** planBatches' batchOverheadTokens; its default when absent. */
  overhead?: number;
}

/** Fixed [rows, seq] batches on every worker at once, for the batch-shape sweep. */
export interface ShapesJob extends PoolJob {
  kind: 'shapes';
  seconds: number;
  shapes: Array<[number, number]>;
}

/** One short chunk and one 32-chunk request, sequentially, many times. */
export interface LatencyJob extends PoolJob {
  kind: 'latency';
  iterations: number;
  short: string;
  request: string[];
  budget: number;
}

/** Cosine of each reference text's vector to the sentence-transformers vector. */
export interface QualityJob extends PoolJob {
  kind: 'quality';
}

export type CeilingJob = CorpusJob | ShapesJob | LatencyJob | QualityJob;

interface Measured {
  peakRssMb: number;
}

export interface CorpusResult extends Measured {
  chunks: number;
  realTokens: number;
  batches: number;
  padded: number;
  chunksPerS: number;
  tokensPerS: number;
  perRep: number[];
  cpuMsPerChunk: number;
  p50: number;
  p95: number;
  p99: number;
  inferMs: number;
  quietInferMsPerChunk: number;
  workerTokenizeMs: number;
  mainTokenizeMs: number;
}

export interface ShapeResult {
  rows: number;
  seq: number;
  tokens: number;
  tokensPerS: number;
  msPerBatch: number;
  cpuMsPer1kTokens: number;
}

export interface ShapesResult extends Measured {
  shapes: ShapeResult[];
}

export interface LatencyResult extends Measured {
  shortTokens: number;
  shortP50: number;
  shortWithTokenizeP50: number;
  requestP50: number;
  requestBatches: number;
}

export interface QualityResult extends Measured {
  texts: number;
  min: number;
  median: number;
  mean: number;
  below099: number;
}

export interface CeilingResults {
  corpus: CorpusResult;
  shapes: ShapesResult;
  latency: LatencyResult;
  quality: QualityResult;
}
