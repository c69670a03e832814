/**
 * `npm run queue -- --nats nats://host:4222 --dir <source dir> | --ndjson <chunks file> --out <results.ndjson>`:
 * publishes chunks as embedding jobs (one per batch) to the NATS JetStream queue that `EMBEDDING_NATS_URL` workers
 * consume, collects their results, and writes one NDJSON line per chunk, exactly once, with progress on stderr
 * (docs/QUEUE.md). Exit 0 only when every chunk has its vector; 1 when a batch failed; 2 when results stopped coming
 * (--idle-timeout-s); 3 when NATS cannot be reached; 64 on a usage error. The last stderr line is a JSON summary.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { ConfigError, parseConfig } from '../src/config.js';
import { chunksFromDir, chunksFromNdjson, collectResults, publishBatches, toBatches, type CollectProgress } from '../src/queue/client.js';
import { isJobId } from '../src/queue/subjects.js';

const USAGE = `usage: npm run queue -- --nats <url> (--dir <source dir> | --ndjson <chunks.ndjson>) --out <results.ndjson>
       [--job <id>] [--batch-size 8] [--encoding float|base64] [--idle-timeout-s 600] [--collect-only]
  --nats            NATS servers, comma-separated (default: $EMBEDDING_NATS_URL)
  --dir             chunk every text file under a directory, 40 lines per chunk, ids path#n
  --ndjson          one {"chunk_id": "...", "content": "..."} per line; ids must be unique
  --out             results, one {"batch_id","chunk_id","vector","tokens","truncated"} line per chunk
  --job             job id (letters, digits, _ or -); rerunning with the same id and input resumes: published
                    batches are dropped as duplicates and stored results are collected again
  --batch-size      chunks per job message (default 8, the batch size Doctown's ingest uses)
  --encoding        vectors as JSON numbers (float, default) or base64 little-endian float32
  --idle-timeout-s  give up when no result arrives for this long (default 600)
  --collect-only    publish nothing; collect a job published before (same input)
Stream and subject names follow the workers' EMBEDDING_NATS_* variables.`;

function usage(message: string): never {
  process.stderr.write(`embed-queue: ${message}\n${USAGE}\n`);
  process.exit(64);
}

let args;
try {
  args = parseArgs({
    options: {
      nats: { type: 'string' },
      dir: { type: 'string' },
      ndjson: { type: 'string' },
      out: { type: 'string' },
      job: { type: 'string' },
      'batch-size': { type: 'string', default: '8' },
      encoding: { type: 'string', default: 'float' },
      'idle-timeout-s': { type: 'string', default: '600' },
      'collect-only': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  usage((error as Error).message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const natsUrl = args.nats ?? process.env.EMBEDDING_NATS_URL;
if (!natsUrl) usage('--nats (or EMBEDDING_NATS_URL) is required');
if ((args.dir === undefined) === (args.ndjson === undefined)) usage('give one of --dir or --ndjson');
if (!args.out) usage('--out is required');
const batchSize = Number(args['batch-size']);
if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) usage('--batch-size must be an integer from 1 to 10000');
const idleTimeoutS = Number(args['idle-timeout-s']);
if (!(idleTimeoutS > 0)) usage('--idle-timeout-s must be a positive number');
const encoding = args.encoding;
if (encoding !== 'float' && encoding !== 'base64') usage('--encoding must be float or base64');
const job = args.job ?? `job-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
if (!isJobId(job)) usage('--job must be 1 to 128 letters, digits, _ or -');

let nats;
try {
  nats = parseConfig({ ...process.env, EMBEDDING_NATS_URL: natsUrl }).nats!;
} catch (error) {
  if (error instanceof ConfigError) usage(error.message);
  throw error;
}

const say = (line: string) => process.stderr.write(`embed-queue: ${line}\n`);
const chunks = args.dir !== undefined ? await chunksFromDir(args.dir) : await chunksFromNdjson(args.ndjson!);
let batches;
try {
  batches = toBatches(chunks, batchSize);
} catch (error) {
  usage((error as Error).message);
}
say(`job ${job}: ${chunks.length} chunks in ${batches.length} batches of up to ${batchSize}`);

let nc;
try {
  // Once connected, a lost connection is retried forever; the first one must succeed, so a wrong address says so.
  nc = await connect({ servers: nats.servers, name: 'embed-queue', maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
} catch (error) {
  say(`cannot connect to NATS at ${nats.servers.join(',')}: ${(error as Error).message}. Is nats-server running with JetStream (-js)?`);
  process.exit(3);
}
const out = createWriteStream(args.out);
let published = { published: 0, duplicates: 0 };
// The collector starts first (it reads the results stream from its start, so the order is not critical) and writes
// each chunk's line as it arrives, so memory holds ids, not vectors.
let last = 0;
const progress = (p: CollectProgress) => {
  const now = Date.now();
  if (now - last < 1000 && p.batchesDone < p.batches) return;
  last = now;
  say(`${p.chunksDone}/${p.chunks} chunks, ${p.batchesDone}/${p.batches} batches, ${p.failedBatches} failed, ${p.duplicateResults} duplicate results dropped`);
};
const collecting = collectResults(
  nc,
  nats,
  job,
  batches,
  async (line) => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  },
  { idleTimeoutMs: idleTimeoutS * 1000, onProgress: progress },
);
if (!args['collect-only']) {
  published = await publishBatches(nc, nats, job, batches, encoding);
  say(`published ${published.published} jobs to ${nats.subject}.${job}${published.duplicates > 0 ? ` (${published.duplicates} already there, dropped as duplicates)` : ''}`);
}
const outcome = await collecting;
out.end();
await once(out, 'finish');
await nc.drain();
for (const f of outcome.failures) say(`batch ${f.batch_id} failed: ${f.code}: ${f.message}`);
if (!outcome.finished) say(`no result for ${idleTimeoutS} s with ${outcome.batches - outcome.batchesDone} batches outstanding; are workers running with EMBEDDING_NATS_URL=${natsUrl}?`);
process.stderr.write(
  `${JSON.stringify({
    job,
    chunks_in: outcome.chunks,
    chunks_out: outcome.chunksDone,
    batches: outcome.batches,
    failed_batches: outcome.failedBatches,
    duplicate_results: outcome.duplicateResults,
    duplicate_publishes: published.duplicates,
  })}\n`,
);
process.exit(outcome.chunksDone === outcome.chunks ? 0 : outcome.finished ? 1 : 2);
