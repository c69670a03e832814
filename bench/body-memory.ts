/**
 * `npm run bench:body-memory`: the server's peak RSS against the request's size, for the same chunks sent as one JSON
 * body and as an NDJSON body (Content-Type: application/x-ndjson), both answered as NDJSON (Accept:
 * application/x-ndjson), so the only difference is how the body is held. One fresh server per run; its RSS is read
 * from /proc every 50 ms from just before the request until the answer's last line. Memory only: no timing figures.
 *
 * Options (all optional):
 *   --counts 1000,10000,50000   chunks per request
 *   --chars 1500                characters per synthetic chunk (40 lines of made-up code, about a real chunk's size)
 *   --corpus                    real code instead (NumPy and SciPy sources, harness/source-corpus.ts; the first use
 *                               downloads the sdists from PyPI into .scratch/corpus)
 *   --seq 32                    EMBEDDING_MAX_SEQ_LENGTH for the server: fewer word pieces make the run quicker without
 *                               changing the body's size, which is what is measured (256 is the service's default)
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { NDJSON, ndjsonLines, postNdjsonBody, responseLines, type ChunkLine } from '../harness/ndjson.js';
import { rssBytes, watchRss } from '../harness/rss.js';
import { buildSourceCorpus } from '../harness/source-corpus.js';
import { projectRoot } from '../src/model/files.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : (args[i + 1] ?? fallback);
};
const counts = option('counts', '1000,10000,50000').split(',').map(Number);
const chars = Number(option('chars', '1500'));
const seq = option('seq', '32');
const corpus = args.includes('--corpus');
const MB = 2 ** 20;

const WORDS = ['parse', 'token', 'return', 'window', 'socket', 'buffer', 'vector', 'stream', 'error', 'index', 'value', 'table', 'state', 'limit'];
/** A made-up code chunk of about `chars` characters, different for every i. */
function synthetic(i: number): string {
  const lines: string[] = [];
  for (let n = 0, length = 0; length < chars; n++) {
    const line = `    ${WORDS[(i + n) % WORDS.length]}_${(i * 31 + n) % 997} = ${WORDS[(i * 7 + n * 3) % WORDS.length]}(${n}, "${WORDS[(n * 5) % WORDS.length]}")`;
    lines.push(line);
    length += line.length + 1;
  }
  return `def f${i}(x):\n${lines.join('\n')}`.slice(0, chars);
}

const largest = Math.max(...counts);
const source = corpus ? (await buildSourceCorpus()).map((c) => c.text) : undefined;
const chunkAt = (i: number): ChunkLine => ({ chunk_id: `c${i}`, content: source ? source[i % source.length]! : synthetic(i) });

async function startServer() {
  const proc = spawn(process.execPath, [path.join(projectRoot(), 'dist', 'src', 'server.js')], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info', // the listening line, with the URL, is logged at info
      EMBEDDING_MAX_SEQ_LENGTH: seq,
      // Uncached: the JSON and NDJSON runs send the same chunks, and the cache's memory tier is not what is measured.
      EMBEDDING_CACHE: 'off',
      // Room for the largest JSON body and its parse, so the budget does not decide the figures.
      EMBEDDING_MAX_BODY_BYTES: String(2 ** 30),
      EMBEDDING_MAX_CHUNKS_PER_REQUEST: String(Math.max(50_000, largest)),
      EMBEDDING_MAX_QUEUED_CHUNKS: String(Math.max(100_000, largest)),
      EMBEDDING_MAX_MEMORY_MB: String(Math.floor((os.totalmem() * 0.8) / MB)),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { url?: string };
        if (entry.url) resolve(entry.url);
      } catch {
        // not a log line
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  for (;;) {
    const res = await fetch(`${url}/health`).catch(() => undefined);
    if (res?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: proc.pid!, stop: () => proc.kill('SIGTERM') };
}

interface Row {
  chunks: number;
  mode: 'json' | 'ndjson';
  bodyMB: number;
  idleMB: number;
  peakMB: number;
}

async function run(count: number, mode: 'json' | 'ndjson'): Promise<Row> {
  const server = await startServer();
  try {
    // Settle after warm-up, so the baseline is the idle footprint.
    await new Promise((r) => setTimeout(r, 2000));
    const idle = rssBytes(server.pid);
    const chunks = (function* () {
      for (let i = 0; i < count; i++) yield chunkAt(i);
    })();
    let bodyBytes = 0;
    const watch = watchRss(server.pid, 50);
    let res: Response;
    if (mode === 'json') {
      const body = JSON.stringify({ batch_id: 'b', chunks: [...chunks] });
      bodyBytes = Buffer.byteLength(body);
      res = await fetch(`${server.url}/embed`, { method: 'POST', headers: { 'content-type': 'application/json', accept: NDJSON }, body });
    } else {
      const lines = (function* () {
        for (const line of ndjsonLines('b', chunks)) {
          bodyBytes += Buffer.byteLength(line);
          yield line;
        }
      })();
      res = await postNdjsonBody(`${server.url}/embed`, lines);
    }
    let answered = 0;
    let last = '';
    for await (const line of responseLines(res)) {
      answered++;
      last = line;
    }
    const { peak } = watch.stop();
    if (res.status !== 200 || answered !== count + 1 || !last.includes('"usage"')) throw new Error(`${mode} ${count}: status ${res.status}, ${answered} lines, last ${last.slice(0, 200)}`);
    return { chunks: count, mode, bodyMB: bodyBytes / MB, idleMB: idle / MB, peakMB: Math.max(peak, idle) / MB };
  } finally {
    server.stop();
  }
}

const rows: Row[] = [];
for (const count of counts) {
  for (const mode of ['json', 'ndjson'] as const) {
    const row = await run(count, mode);
    rows.push(row);
    console.error(`${mode} ${count}: body ${row.bodyMB.toFixed(1)} MB, idle ${row.idleMB.toFixed(0)} MB, peak ${row.peakMB.toFixed(0)} MB`);
  }
}
console.log(`chunks: ${corpus ? 'NumPy/SciPy source (harness/source-corpus.ts)' : `synthetic code, ${chars} characters each`}; EMBEDDING_MAX_SEQ_LENGTH=${seq}; node ${process.version}; ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`);
console.log('| Chunks | Body | Body size | Server RSS idle | Peak RSS | Peak − idle |');
console.log('|---:|---|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.chunks.toLocaleString('en')} | ${r.mode === 'json' ? 'JSON' : 'NDJSON'} | ${r.bodyMB.toFixed(1)} MB | ${r.idleMB.toFixed(0)} MB | ${r.peakMB.toFixed(0)} MB | ${(r.peakMB - r.idleMB).toFixed(0)} MB |`);
}
