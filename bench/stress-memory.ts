/**
 * `npm run stress:memory`: embeds the TypeScript compiler's own sources (node_modules/typescript/lib,
 * present after `npm install`) through the real server, in chunks of 40 lines, and reports chunks,
 * tokens, throughput, peak RSS against the memory budget, and every decision the memory supervisor
 * logged. Options (all optional):
 *   --chunks N          how many 40-line chunks to embed (default 800; `all` for every file in lib/)
 *   --request N         chunks per request (default 500)
 *   --parallel N        requests in flight at once (default 2)
 *   --ndjson            ask for streamed NDJSON responses instead of JSON
 * The server's settings come from the environment as usual, e.g. EMBEDDING_MAX_MEMORY_MB=900.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../src/model/files.js';

const LINES_PER_CHUNK = 40;
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1] ?? fallback;
};
const wanted = option('chunks', '800');
const perRequest = Number(option('request', '500'));
const parallel = Number(option('parallel', '2'));
const ndjson = args.includes('--ndjson');

// The compiler first (_tsc.js is tsc itself), then the rest of lib/ in name order.
const libDir = path.join(projectRoot(), 'node_modules', 'typescript', 'lib');
const files = readdirSync(libDir)
  .filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))
  .sort((a, b) => Number(b === '_tsc.js') - Number(a === '_tsc.js') || a.localeCompare(b));
const chunks: Array<{ chunk_id: string; content: string }> = [];
const limit = wanted === 'all' ? Number.POSITIVE_INFINITY : Number(wanted);
for (const file of files) {
  const lines = readFileSync(path.join(libDir, file), 'utf8').split('\n');
  for (let start = 0; start < lines.length && chunks.length < limit; start += LINES_PER_CHUNK) {
    chunks.push({ chunk_id: `${file}#L${start + 1}`, content: lines.slice(start, start + LINES_PER_CHUNK).join('\n') });
  }
  if (chunks.length >= limit) break;
}
const sourceBytes = chunks.reduce((n, c) => n + Buffer.byteLength(c.content), 0);

// The real server, on a free loopback port, logging to our pipe.
const server = spawn(process.execPath, ['--expose-gc', path.join(projectRoot(), 'dist', 'src', 'server.js')], {
  env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const decisions: Array<Record<string, unknown>> = [];
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: server.stdout! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (typeof entry.url === 'string') resolve(entry.url);
      if (typeof entry.supervisor === 'string') decisions.push(entry);
    } catch {
      // not JSON
    }
  });
  server.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
});

interface Supervisor {
  budget_bytes: number;
  budget_source: string;
  rss_bytes: number;
  peak_rss_bytes: number;
  batch_size: number;
  concurrency: number;
  recycles: number;
}
const health = async () => ((await (await fetch(`${url}/health`)).json()) as { status: string; supervisor: Supervisor });
while ((await health().catch(() => ({ status: 'down' }))).status !== 'healthy') await new Promise((r) => setTimeout(r, 100));
const idle = (await health()).supervisor;

let peakRss = idle.rss_bytes;
let minBatch = idle.batch_size;
let minConcurrency = idle.concurrency;
const poller = setInterval(async () => {
  const s = (await health().catch(() => undefined))?.supervisor;
  if (!s) return;
  peakRss = Math.max(peakRss, s.peak_rss_bytes);
  minBatch = Math.min(minBatch, s.batch_size);
  minConcurrency = Math.min(minConcurrency, s.concurrency);
}, 250);

let tokens = 0;
let refused = 0;
const started = performance.now();
let next = 0;
async function worker(): Promise<void> {
  while (next < chunks.length) {
    const start = next;
    next += perRequest;
    const body = JSON.stringify({ batch_id: `stress-${start}`, chunks: chunks.slice(start, start + perRequest) });
    for (;;) {
      const res = await fetch(`${url}/embed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: ndjson ? 'application/x-ndjson' : 'application/json' },
        body,
      });
      if (res.status === 503) {
        refused++;
        await res.arrayBuffer();
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
        continue;
      }
      const text = await res.text();
      if (res.status !== 200) throw new Error(`request at chunk ${start}: ${res.status} ${text.slice(0, 300)}`);
      const usage = ndjson ? JSON.parse(text.trimEnd().split('\n').at(-1)!).usage : JSON.parse(text).usage;
      if (usage.chunks !== Math.min(perRequest, chunks.length - start)) throw new Error(`request at chunk ${start}: ${usage.chunks} vectors`);
      tokens += usage.tokens;
      break;
    }
  }
}
await Promise.all(Array.from({ length: parallel }, worker));
const seconds = (performance.now() - started) / 1000;
clearInterval(poller);
const final = (await health()).supervisor;
peakRss = Math.max(peakRss, final.peak_rss_bytes);
server.kill('SIGTERM');
await once(server, 'exit');

const mb = (bytes: number) => `${Math.round(bytes / 1048576)} MB`;
const acted = decisions.filter((d) => d.supervisor !== 'start');
const byType = new Map<string, number>();
for (const d of acted) byType.set(String(d.supervisor), (byType.get(String(d.supervisor)) ?? 0) + 1);
const report = [
  `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, ${mb(os.totalmem())} RAM, Node ${process.version}`,
  `source: node_modules/typescript/lib (${files.length} files), ${LINES_PER_CHUNK} lines per chunk, ${(sourceBytes / 1048576).toFixed(1)} MB of text`,
  `requests: ${Math.ceil(chunks.length / perRequest)} of ≤ ${perRequest} chunks, ${parallel} in flight, ${ndjson ? 'NDJSON' : 'JSON'}; ${refused} refused with 503 and retried`,
  `chunks: ${chunks.length}`,
  `tokens: ${tokens} (${(tokens / chunks.length).toFixed(1)} per chunk)`,
  `time: ${seconds.toFixed(1)} s — ${(chunks.length / seconds).toFixed(1)} chunks/s, ${Math.round(tokens / seconds)} tokens/s`,
  `budget: ${mb(final.budget_bytes)} (${final.budget_source}); idle RSS ${mb(idle.rss_bytes)}; peak RSS ${mb(peakRss)} (${Math.round((100 * peakRss) / final.budget_bytes)}% of budget)`,
  `limits: batch size ${idle.batch_size} → lowest ${minBatch} → ${final.batch_size} at the end; concurrency ${idle.concurrency} → lowest ${minConcurrency} → ${final.concurrency}; ${final.recycles} worker recycles`,
  `supervisor decisions: ${acted.length}${byType.size > 0 ? ` (${[...byType].map(([k, n]) => `${k} ×${n}`).join(', ')})` : ''}`,
  ...acted.slice(0, 40).map((d) => `  ${String(d.supervisor).padEnd(11)} ${String(d.msg).replace('memory supervisor: ', '')} — ${d.reason ?? ''}`),
];
process.stdout.write(report.join('\n') + '\n');
