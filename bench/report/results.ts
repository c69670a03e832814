/**
 * The shape of bench/.last-run.json: everything bench/run.ts measured, and all bench/render.ts
 * reads. Fields marked optional are missing from runs made before they were added; the renderer
 * says so or falls back rather than refusing an older file.
 */
import type { CorpusResult, LatencyResult, QualityResult, ShapeResult } from '../ceiling/types.js';
import type { PairedReport } from '../lib/paired.js';
import type { SystemResult } from '../measure/systems.js';

/** The budget sweep's "no cap": more padded tokens than any batch of 64 rows × 256 can hold. */
export const NO_BUDGET = 1024 * 256;

export interface BenchParams {
  size: number;
  reps: number;
  shapeSeconds: number;
  shapes: Array<[number, number]>;
  layouts: Array<[number, number]>;
  concurrencies: number[];
  latencyIterations: number;
  peerBudgetS: number;
  pairs: number;
  /** Side by side with the real peers (issue 16): rounds, and lone requests per system per round. */
  peerRounds?: number;
  peerLoneIterations?: number;
}

/** The service and the systems a user would pick instead, side by side in alternating rounds (measure/systems.ts). */
export interface SystemsRun {
  rounds: number;
  clients: number;
  loneIterations: number;
  /** Chunks per HTTP request (TEI's default client batch limit). */
  requestChunks: number;
  results: SystemResult[];
  /** Systems asked for that could not run here, with why. */
  skipped: Array<{ name: string; why: string }>;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memGiB: number;
  node: string;
  ort: string;
  transformersjs: string;
  tjsOrt: string;
  /** Python, onnxruntime, FastAPI and tokenizers versions of the Python peer's venv; null when missing. */
  python: string[] | null;
  load: string;
  /** Share of the CPU busy in the 3 s before the first measurement; null without /proc. */
  busyAtStart?: number | null;
  /** fp32 GFLOP/s of one core (numpy/OpenBLAS); null without the Python peer's venv. */
  gemmGflopsPerCore?: number | null;
}

export interface Quantiles {
  p5: number;
  p50: number;
  p95: number;
}

export interface CorpusInfo {
  chunks: number;
  code: number;
  prose: number;
  realTokens: number;
  meanTokens: number;
  truncated: number;
  histogram: Array<{ lo: number; hi: number; count: number }>;
  /** Characters per word piece, untruncated chunks. */
  charStats: Record<'code' | 'prose', Quantiles & { n: number }>;
  tokenizeMsPerChunk: number;
  /** estimateTokens / real tokens, and its cost. */
  estimate: Quantiles & { msPerChunk: number };
  tokenizeTokensPerS: number;
}

export interface PaddingRow {
  name: string;
  batches: number;
  ratio: number;
  overBudget: number;
  maxPadded: number;
}

export interface LayoutResult extends CorpusResult {
  workers: number;
  threads: number;
  latency: LatencyResult;
}

/** One client count against a server over HTTP, medians over repetitions. */
export interface LoadRun {
  concurrency: number;
  chunksPerS: number;
  tokensPerS: number;
  perRep: number[];
  p50: number;
  p95: number;
  p99: number;
  clientCpuShare: number;
  cpuMsPerChunk: number;
  workerOccupancy: number;
  batches: number;
}

export interface ServiceResult {
  workers: number;
  threads: number;
  idleShortP50: number;
  runs: LoadRun[];
  peakRssMb: number;
}

export interface TransformersJsResult {
  chunksPerS: number;
  perRep: number[];
  cpuMsPerChunk: number;
  p50: number;
  p95: number;
  p99: number;
  peakRssMb: number;
}

export interface PythonResult extends LoadRun {
  idleShortP50: number;
  peakRssMb: number;
}

export interface BenchResults {
  machine: MachineInfo;
  params: BenchParams;
  budget: number;
  corpus: CorpusInfo;
  padding: PaddingRow[];
  shapes: ShapeResult[];
  layouts: LayoutResult[];
  budgets: Array<CorpusResult & { budget: number }>;
  overheads?: Array<CorpusResult & { overhead: number }>;
  arrival32: CorpusResult;
  placement: { worker: CorpusResult; main: CorpusResult };
  int8: { throughput: CorpusResult; quality: QualityResult; fp32Quality: QualityResult };
  service: ServiceResult[];
  serviceNoBudget?: { runs: LoadRun[]; peakRssMb: number };
  paired?: PairedReport;
  httpFloorP50: number;
  json: { perChunkMs: number; e2ePerChunkMs: number; share: number };
  peers: { transformersjs?: TransformersJsResult; python?: PythonResult };
  /** Missing from runs before issue 16. */
  systems?: SystemsRun;
  elapsedS: number;
  best: LayoutResult;
  command: string;
  quick: boolean;
  requests: number;
  finishedAt: string;
}

/**
 * The ceiling is the layout that ran the corpus fastest: the practical limit, and the strictest bar
 * for the service. (Least CPU per chunk was the rule before; CPU time swings with other tenants as
 * much as wall time does here.)
 */
export function pickBest(layouts: readonly LayoutResult[]): LayoutResult {
  return layouts.reduce((a, b) => (b.chunksPerS > a.chunksPerS ? b : a));
}
