/**
 * `npm run soak -- [--minutes 10] [--connections 8]`: mixed /embed load for a long stretch, RSS sampled
 * every second; reports the RSS slope after warm-up (MiB per minute), which must stay near zero.
 */
import { parseArgs } from 'node:util';
import { startServer, UNCACHED } from '../harness/server.js';
import { embedAlone, formatReport, loadCorpus, REPORT_HEADER, runLoad, watchRss } from '../harness/load-driver.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    connections: { type: 'string', default: '8' },
    'warmup-fraction': { type: 'string', default: '0.2' },
  },
});
const minutes = Number(values.minutes);
const connections = Number(values.connections);

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const corpus = await loadCorpus(300);
const server = await startServer({ ...UNCACHED, EMBEDDING_MAX_QUEUED_CHUNKS: String(connections * 128), EMBEDDING_MAX_CHUNKS_PER_REQUEST: '128' });
let failed = false;
try {
  await server.waitReady();
  const alone = await embedAlone(server.url, corpus);
  const rss = watchRss(server.proc.pid!, 1000);
  // The main thread's V8 heap, from /metrics, tells a growing JS heap apart from native or worker memory.
  const heap: number[] = [];
  const heapTimer = setInterval(async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text().catch(() => '');
    const used = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1];
    if (used) heap.push(Number(used));
  }, 30_000);
  const report = await runLoad({ url: server.url, pid: server.proc.pid!, connections, durationS: minutes * 60, sizes: [1, 128], corpus, alone, sampleEvery: 32 });
  const { samples } = rss.stop();
  clearInterval(heapTimer);
  const points = samples.map((bytes, i): [number, number] => [i / 60, bytes / 2 ** 20]);
  const afterWarmup = points.slice(Math.floor(points.length * Number(values['warmup-fraction'])));
  const perMinute = slope(afterWarmup);
  const mib = (b: number) => Math.round(b / 2 ** 20);
  console.log(`\n${REPORT_HEADER}\n${formatReport(`soak: ${connections} clients, ${minutes} min, 1–128 chunks`, report)}`);
  console.log(`\nRSS: start ${mib(samples[0] ?? 0)} MiB, after warm-up ${Math.round(afterWarmup[0]?.[1] ?? 0)} MiB, end ${mib(samples.at(-1) ?? 0)} MiB, peak ${mib(Math.max(...samples))} MiB`);
  console.log(`RSS slope after warm-up: ${perMinute.toFixed(2)} MiB/min over ${afterWarmup.length} one-second samples`);
  const everyMinute = points.filter((_, i) => i % 60 === 0).map(([m, v]) => `${m.toFixed(0)}:${Math.round(v)}`);
  console.log(`RSS by minute (min:MiB): ${everyMinute.join(' ')}`);
  console.log(`main-thread heap used every 30 s (MiB): ${heap.map(mib).join(' ')}`);
  const health = (await (await fetch(`${server.url}/health`)).json()) as { supervisor?: { recycles?: number; workers?: Array<{ tasks: number }> } };
  console.log(`worker recycles: ${health.supervisor?.recycles}; tasks per worker now: ${health.supervisor?.workers?.map((w) => w.tasks).join(', ')}`);
  failed = report.problems.length > 0 || Object.keys(report.byStatus).some((s) => s !== '200');
  for (const p of report.problems) console.error(`  ${p}`);
} finally {
  await server.stop();
}
process.exitCode = failed ? 1 : 0;
