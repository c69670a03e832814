/** The summary against the ceiling and the peers, the issue's targets, and where the service's time goes. */
import { f0, f1, f2, pct } from './format.js';
import type { ReportContext } from './context.js';
import type { BenchResults } from './results.js';

export function summaryLines(r: BenchResults, c: ReportContext): string[] {
  const { a, svcDefault, svc4, tjs, py } = c;
  const L: string[] = [];
  L.push('### Service vs its ceiling and the home-made peers (secondary)');
  L.push('');
  L.push('| configuration | chunks/s | tokens/s | p50 ms | p95 ms | p99 ms | CPU ms per chunk | peak RSS MB |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  L.push(`| (a) ceiling: onnxruntime-node in process, pre-tokenized, sorted, fastest layout ${a.workers}×${a.threads} (latency per batch) | ${f1(a.chunksPerS)} | ${f0(a.tokensPerS)} | ${f0(a.p50)} | ${f0(a.p95)} | ${f0(a.p99)} | ${f1(a.cpuMsPerChunk)} | ${f0(a.peakRssMb)} |`);
  for (const run of svcDefault?.runs ?? []) {
    L.push(`| (b) this service over HTTP, 2×1, ${run.concurrency} client${run.concurrency > 1 ? 's' : ''} | ${f1(run.chunksPerS)} | ${f0(run.tokensPerS)} | ${f0(run.p50)} | ${f0(run.p95)} | ${f0(run.p99)} | ${f1(run.cpuMsPerChunk)} | ${f0(svcDefault?.peakRssMb)} |`);
  }
  const nb = r.serviceNoBudget?.runs[0];
  if (nb) L.push(`| (b′) the same without a token budget, 4 clients | ${f1(nb.chunksPerS)} | ${f0(nb.tokensPerS)} | ${f0(nb.p50)} | ${f0(nb.p95)} | ${f0(nb.p99)} | ${f1(nb.cpuMsPerChunk)} | ${f0(r.serviceNoBudget?.peakRssMb)} |`);
  if (tjs) L.push(`| (c) transformers.js pipeline in process, defaults, one request at a time | ${f1(tjs.chunksPerS)} | ${f0((tjs.chunksPerS * r.corpus.realTokens) / r.corpus.chunks)} | ${f0(tjs.p50)} | ${f0(tjs.p95)} | ${f0(tjs.p99)} | ${f1(tjs.cpuMsPerChunk)} | ${f0(tjs.peakRssMb)} |`);
  if (py) L.push(`| (c) Python original design (FastAPI, batch 32, arrival order) over HTTP, 4 clients | ${f1(py.chunksPerS)} | ${f0(py.tokensPerS)} | ${f0(py.p50)} | ${f0(py.p95)} | ${f0(py.p99)} | ${f1(py.cpuMsPerChunk)} | ${f0(py.peakRssMb)} |`);
  L.push('');
  L.push(`CPU ms per chunk is the process's user + system time (all threads) over the run divided by the chunks. It leaves out time spent waiting for a core, but on this host it still moves about as much as chunks/s from run to run (other tenants slow the cores themselves); on an idle machine with both cores busy chunks/s ≈ ${r.machine.cores} × 1000 / (CPU ms per chunk). For the service it counts the server process only; the HTTP load generator, on the same cores, used ${svc4 ? (svc4.clientCpuShare * 100).toFixed(1) : '–'}% of the machine's CPU during the 4-client runs.`);
  L.push('');
  return L;
}

export function targetLines(r: BenchResults, c: ReportContext): string[] {
  const { a, svcDefault, svc4, svcBest, tjs, py, lat21, ortShort, ortShortLayout } = c;
  const L: string[] = [];
  L.push('### Targets');
  L.push('');
  L.push('| target | measured | met |');
  L.push('|---|---|---|');
  const ratioA = svcBest ? svcBest.chunksPerS / a.chunksPerS : NaN;
  const cpuA = svcBest ? a.cpuMsPerChunk / svcBest.cpuMsPerChunk : NaN;
  if (r.paired) {
    const p = r.paired;
    const met = p.ratio >= 0.9;
    L.push(`| (b) ≥ 90% of (a) in chunks/s at ≥ 4 clients | **${pct(p.ratio)}**, median of ${p.pairs.length} alternating pairs at 4 clients (per pair: ${p.pairs.map((x) => pct(x.ratio)).join(', ')}; best run against best run ${pct(p.bestRatio)}); the separate runs above: ${pct(ratioA)} (${f1(svcBest?.chunksPerS)} at ${svcBest?.concurrency} clients vs ${f1(a.chunksPerS)}), by CPU per chunk ${pct(cpuA)} | ${met ? 'yes' : `no, ${pct(0.9 - p.ratio)} short`} |`);
  } else {
    L.push(`| (b) ≥ 90% of (a) in chunks/s at ≥ 4 clients | ${pct(ratioA)} (${f1(svcBest?.chunksPerS)} at ${svcBest?.concurrency} clients vs ${f1(a.chunksPerS)}); by CPU per chunk ${pct(cpuA)} | ${ratioA >= 0.9 ? 'yes' : `no, ${pct(0.9 - ratioA)} short`} |`);
  }
  if (tjs && svc4) {
    const x = svc4.chunksPerS / tjs.chunksPerS;
    L.push(`| (b) ≥ 3× transformers.js | ${f2(x)}× (by CPU per chunk ${f2(tjs.cpuMsPerChunk / svc4.cpuMsPerChunk)}×) | ${x >= 3 ? 'yes' : 'no'} |`);
  }
  if (py && svc4) {
    const x = svc4.chunksPerS / py.chunksPerS;
    L.push(`| (b) ≥ 1.5× the Python original design (4 clients each) | ${f2(x)}× (by CPU per chunk ${f2(py.cpuMsPerChunk / svc4.cpuMsPerChunk)}×) | ${x >= 1.5 ? 'yes' : 'no'} |`);
  }
  const idle = svcDefault?.idleShortP50 ?? NaN;
  const short = lat21?.shortWithTokenizeP50 ?? NaN;
  const pl = r.paired?.latency;
  if (pl) {
    const pairList = (x: typeof pl.backToBack) => x.pairs.map((q) => `${f1(q.b)}/${f1(q.a)}`).join(', ');
    L.push(`| one short chunk (${pl.shortTokens} tokens), idle server, p50 ≤ 1.5× in-process onnxruntime (same 2×1 layout, tokenization included) | **${f2(pl.backToBack.ratio)}×**, median of ${pl.backToBack.pairs.length} alternating pairs of ${pl.iterations} requests each (service/in-process ms: ${pairList(pl.backToBack)}); against in-process runs paced ${pl.pauseMs} ms apart, as a worker behind HTTP idles between requests: ${f2(pl.paced.ratio)}×; the separate runs above: ${f2(idle)} ms vs ${f2(short)} ms, ${f2(idle / short)}× | ${pl.backToBack.ratio <= 1.5 ? 'yes' : 'no'} |`);
  } else {
    L.push(`| one short chunk (${lat21?.shortTokens} tokens), idle server, p50 ≤ 1.5× in-process onnxruntime (same 2×1 layout, tokenization included) | ${f2(idle)} ms vs ${f2(short)} ms: ${f2(idle / short)}× | ${idle / short <= 1.5 ? 'yes' : 'no'} |`);
  }
  const floor = r.httpFloorP50 + ortShort;
  L.push(`| the same under 10 ms | ${f2(idle)} ms${Number.isFinite(r.httpFloorP50) ? `; floor on this machine: a bare \`node:http\` server answers the same request in ${f2(r.httpFloorP50)} ms, plus ${f2(ortShort)} ms for the fastest in-process inference of the chunk (${ortShortLayout?.workers}×${ortShortLayout?.threads}) = ${f2(floor)} ms` : ''} | ${idle < 10 ? 'yes' : floor >= 10 ? 'no: below the floor is out of reach here' : 'no'} |`);
  L.push('');
  return L;
}

export function whereTimeGoesLines(r: BenchResults, c: ReportContext): string[] {
  const { a, svc4, lat21, ortShort, ortShortLayout } = c;
  const L: string[] = [];
  if (r.paired) {
    L.push(`Why pairs: the same configuration measured ±10% from one run to the next on this machine (the ceiling's own repetitions here: ${(r.best.perRep ?? []).map(f1).join(', ')} chunks/s), so a ratio of two medians taken minutes apart is mostly noise at the scale of this target. The paired figure runs the ceiling (in the bench process, pre-tokenized, whole corpus sorted) and the service (4 clients, the request mix) one after the other, alternating which goes first; the short-chunk latency is paired the same way (in process: the ceiling's 2×1 pool in the bench process; service: the same child server).`);
    L.push('');
  }
  if (svc4) {
    const servicePad = r.padding[2]!.ratio;
    const ceilingPad = r.padding[4]!.ratio;
    L.push('Where the service\'s time goes (2×1, 4 clients), against the ceiling:');
    L.push('');
    L.push(`- **Padding**: the service batches each request on its own, padding to ${f2(servicePad)}× the real tokens; the ceiling sorts the whole corpus at once (${f2(ceilingPad)}×): ${pct(servicePad / ceilingPad - 1)} more model work.`);
    L.push(`- **Tokenization** in the workers: ${f2(r.corpus.tokenizeMsPerChunk)} ms per chunk, ${pct(r.corpus.tokenizeMsPerChunk / a.cpuMsPerChunk)} of the ceiling's CPU per chunk.`);
    L.push(`- **Inference**: the workers had a batch in hand ${pct(svc4.workerOccupancy)} of the time (${f0(svc4.batches)} batches, from the service's \`embedding_batch_duration_seconds\`); the rest is queueing and dispatch: a worker waiting for the main thread to hand it the next batch, or for requests to arrive.`);
    L.push(`- **Serialisation** of the vectors to JSON: ${(r.json.share * 100).toFixed(2)}% of the wall time per chunk (below).`);
    L.push(`- **CPU per chunk**: ${f1(svc4.cpuMsPerChunk)} ms in the server process against ${f1(a.cpuMsPerChunk)} ms for the ceiling (HTTP, validation, request planning, result copies on top of inference).`);
    L.push('');
  }
  L.push(`In-process latency for that chunk, pre-tokenized: ${f2(lat21?.shortP50)} ms on one single-threaded session; the fastest layout for it is ${ortShortLayout?.workers}×${ortShortLayout?.threads} at ${f2(ortShort)} ms with tokenization.`);
  L.push('');
  return L;
}
