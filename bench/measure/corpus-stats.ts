/** The corpus as the model sees it: token counts, their spread, and what tokenizing and estimating them cost. */
import type { BenchChunk } from '../../harness/corpus.js';
import { percentile, sum } from '../../harness/stats.js';
import { estimateTokens } from '../../src/core/planner.js';
import type { ModelInput, ModelTokenizer } from '../../src/workers/thread/tokenizer.js';
import type { CorpusInfo } from '../report/results.js';

const HIST = [16, 32, 64, 128, 192, 255, 256];

export interface TokenizedCorpus {
  info: CorpusInfo;
  encoded: ModelInput[];
  /** Each chunk's real token count, [CLS] and [SEP] included. */
  tokens: number[];
}

export function tokenizeCorpus(corpus: readonly BenchChunk[], tokenizer: ModelTokenizer): TokenizedCorpus {
  const texts = corpus.map((c) => c.text);
  tokenizer.encode('warm up');
  const t0 = performance.now();
  const encoded = texts.map((t) => tokenizer.encode(t));
  const tokenizeMs = performance.now() - t0;
  const tokens = encoded.map((e) => e.ids.length);
  const realTokens = sum(tokens);
  const histogram = HIST.map((hi, i) => ({ lo: (HIST[i - 1] ?? 0) + 1, hi, count: tokens.filter((t) => t <= hi && t > (HIST[i - 1] ?? 0)).length }));
  const charsPerPiece = (kind: BenchChunk['kind']) =>
    corpus
      .map((c, i) => ({ c, i }))
      .filter(({ c, i }) => c.kind === kind && !encoded[i]!.truncated && tokens[i]! > 2)
      .map(({ c, i }) => c.text.length / (tokens[i]! - 2));
  const quantiles = (xs: number[]) => ({ p5: percentile(xs, 5), p50: percentile(xs, 50), p95: percentile(xs, 95) });
  const code = charsPerPiece('code');
  const prose = charsPerPiece('prose');
  const charStats = { code: { n: code.length, ...quantiles(code) }, prose: { n: prose.length, ...quantiles(prose) } };
  const estimateRatios = texts.flatMap((t, i) => (encoded[i]!.truncated ? [] : [estimateTokens(t) / tokens[i]!]));
  const s = performance.now();
  for (const t of texts) estimateTokens(t);
  const estimateMsPerChunk = (performance.now() - s) / texts.length;
  const info: CorpusInfo = {
    chunks: corpus.length,
    code: corpus.filter((c) => c.kind === 'code').length,
    prose: corpus.filter((c) => c.kind === 'prose').length,
    realTokens,
    meanTokens: realTokens / corpus.length,
    truncated: encoded.filter((e) => e.truncated).length,
    histogram,
    charStats,
    tokenizeMsPerChunk: tokenizeMs / corpus.length,
    estimate: { ...quantiles(estimateRatios), msPerChunk: estimateMsPerChunk },
    tokenizeTokensPerS: realTokens / (tokenizeMs / 1000),
  };
  return { info, encoded, tokens };
}
