import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { errors as natsErrors, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { ensureStreams } from './streams.js';
import { ENCODING_HEADER, jobSubject, messageId, resultsSubject, type QueueNames, type VectorEncoding } from './subjects.js';

/**
 * The producer and collector side of the queue (bin/embed-queue.ts is its command line; the tests and the proof use
 * it too): chunks in, one job per batch, results collected by `(batch_id, chunk_id)` so that however often a job was
 * redelivered, each chunk is written once.
 */

export interface SourceChunk {
  chunk_id: string;
  content: string;
}

export interface Batch {
  batch_id: string;
  chunks: SourceChunk[];
}

/** Lines of a source file per chunk when chunking a directory: about what a code indexer's chunk holds. */
const LINES_PER_CHUNK = 40;
/** Files larger than this are skipped (generated or data files, not source). */
const MAX_FILE_BYTES = 1024 * 1024;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'build', 'target', 'vendor', '__pycache__']);

/** Every text file under `dir` (no dot-directories, dependencies or build output), as chunks of 40 lines, `path#n`. */
export async function chunksFromDir(dir: string): Promise<SourceChunk[]> {
  const chunks: SourceChunk[] = [];
  const walk = async (sub: string): Promise<void> => {
    const entries = (await readdir(path.join(dir, sub), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('.') && !SKIPPED_DIRS.has(entry.name)) await walk(rel);
        continue;
      }
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      const file = path.join(dir, rel);
      if ((await stat(file)).size > MAX_FILE_BYTES) continue;
      const bytes = await readFile(file);
      if (bytes.includes(0)) continue; // binary
      const lines = bytes.toString('utf8').split('\n');
      for (let i = 0, n = 1; i < lines.length; i += LINES_PER_CHUNK, n++) {
        const content = lines.slice(i, i + LINES_PER_CHUNK).join('\n');
        if (content.trim() !== '') chunks.push({ chunk_id: `${rel}#${n}`, content });
      }
    }
  };
  await walk('');
  return chunks;
}

/** An NDJSON file of `{"chunk_id": "...", "content": "..."}` lines; a bad line is an error naming its number. */
export async function chunksFromNdjson(file: string): Promise<SourceChunk[]> {
  const chunks: SourceChunk[] = [];
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    n++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`${file}:${n}: not JSON`);
    }
    const { chunk_id: id, content } = (value ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string' || typeof content !== 'string') throw new Error(`${file}:${n}: expected {"chunk_id": string, "content": string}`);
    chunks.push({ chunk_id: id, content });
  }
  return chunks;
}

/** Chunks in batches of `size`, ids `b000001`…; chunk ids must be unique, since results are matched by them. */
export function toBatches(chunks: readonly SourceChunk[], size: number): Batch[] {
  const seen = new Set<string>();
  for (const c of chunks) {
    if (seen.has(c.chunk_id)) throw new Error(`chunk id ${JSON.stringify(c.chunk_id)} appears twice: results are matched to chunks by id`);
    seen.add(c.chunk_id);
  }
  const batches: Batch[] = [];
  const width = Math.max(6, String(Math.ceil(chunks.length / size)).length);
  for (let i = 0; i < chunks.length; i += size) {
    batches.push({ batch_id: `b${String(batches.length + 1).padStart(width, '0')}`, chunks: chunks.slice(i, i + size) });
  }
  return batches;
}

/** Publishes each batch as a job (stored by the server before this returns); returns how many the server dropped as duplicates. */
export async function publishBatches(nc: NatsConnection, names: QueueNames, job: string, batches: readonly Batch[], encoding: VectorEncoding = 'float'): Promise<{ published: number; duplicates: number }> {
  await ensureStreams(await jetstreamManager(nc), names);
  const js = jetstream(nc);
  let duplicates = 0;
  for (const batch of batches) {
    const h = natsHeaders();
    if (encoding !== 'float') h.set(ENCODING_HEADER, encoding);
    const ack = await js.publish(jobSubject(names, job), JSON.stringify(batch), { msgID: messageId(job, batch.batch_id), headers: h });
    if (ack.duplicate) duplicates++;
  }
  return { published: batches.length - duplicates, duplicates };
}

/** One chunk's result line in the output: the batch, and /embed's ChunkVector. */
export interface ResultLine {
  batch_id: string;
  chunk_id: string;
  vector: number[] | string;
  tokens: number;
  truncated: boolean;
}

export interface CollectProgress {
  chunks: number;
  chunksDone: number;
  batches: number;
  batchesDone: number;
  failedBatches: number;
  /** Result messages (or chunks in them) that repeated one already written: dropped by the upsert. */
  duplicateResults: number;
}

export interface CollectOutcome extends CollectProgress {
  /** Failed batches: id, code and message. */
  failures: Array<{ batch_id: string; code: string; message: string }>;
  /** True when every batch ended (a result or a failure) before the idle timeout. */
  finished: boolean;
}

/**
 * A JetStream API call retried while the server is coming back: right after a restart (or a reconnect) its JetStream
 * answers nothing or times out for a few seconds while it recovers its streams, which a collector should wait out.
 */
async function whileJetStreamRecovers<T>(call: () => Promise<T>, attempts = 15, delayMs = 1_000): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const transient = error instanceof natsErrors.TimeoutError || error instanceof natsErrors.NoRespondersError;
      if (!transient || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/**
 * Reads a job's results from the results stream (from its start, so nothing is missed however late this begins) and
 * hands each chunk's line to `write` exactly once, upserting by `(batch_id, chunk_id)`. Ends when every batch has a
 * result or a failure, or after `idleTimeoutMs` without a new result.
 */
export async function collectResults(
  nc: NatsConnection,
  names: QueueNames,
  job: string,
  batches: readonly Batch[],
  write: (line: ResultLine) => void | Promise<void>,
  options: { idleTimeoutMs?: number; onProgress?: (p: CollectProgress) => void } = {},
): Promise<CollectOutcome> {
  const expected = new Map(batches.map((b) => [b.batch_id, new Set(b.chunks.map((c) => c.chunk_id))]));
  const written = new Map<string, Set<string>>();
  const failures = new Map<string, { batch_id: string; code: string; message: string }>();
  const chunks = batches.reduce((n, b) => n + b.chunks.length, 0);
  const progress: CollectProgress = { chunks, chunksDone: 0, batches: batches.length, batchesDone: 0, failedBatches: 0, duplicateResults: 0 };
  const js = jetstream(nc);
  const consumer = await whileJetStreamRecovers(() => js.consumers.get(names.resultsStream, { filter_subjects: resultsSubject(names, job) }));
  const messages = await consumer.consume();
  let idle: NodeJS.Timeout | undefined;
  let finished = progress.batches === 0;
  const armIdle = () => {
    clearTimeout(idle);
    if (options.idleTimeoutMs !== undefined) idle = setTimeout(() => void messages.stop(), options.idleTimeoutMs);
  };
  armIdle();
  try {
    if (finished) return { ...progress, failures: [], finished };
    for await (const msg of messages) {
      armIdle();
      let result: { batch_id?: unknown; vectors?: unknown; error?: { code?: unknown; message?: unknown } };
      try {
        result = msg.json();
      } catch {
        continue;
      }
      const batchId = typeof result.batch_id === 'string' ? result.batch_id : undefined;
      const want = batchId === undefined ? undefined : expected.get(batchId);
      if (!want || batchId === undefined) continue; // another run's batch under the same job id
      const done = written.get(batchId) ?? new Set<string>();
      written.set(batchId, done);
      const wasComplete = done.size === want.size || failures.has(batchId);
      if (result.error) {
        if (!wasComplete) failures.set(batchId, { batch_id: batchId, code: String(result.error.code), message: String(result.error.message) });
        else progress.duplicateResults++;
      } else if (Array.isArray(result.vectors)) {
        if (wasComplete) progress.duplicateResults++;
        for (const v of result.vectors as Array<Omit<ResultLine, 'batch_id'>>) {
          if (!want.has(v.chunk_id) || done.has(v.chunk_id)) continue;
          done.add(v.chunk_id);
          progress.chunksDone++;
          await write({ batch_id: batchId, chunk_id: v.chunk_id, vector: v.vector, tokens: v.tokens, truncated: v.truncated });
        }
      }
      if (!wasComplete && (done.size === want.size || failures.has(batchId))) progress.batchesDone++;
      progress.failedBatches = failures.size;
      options.onProgress?.({ ...progress });
      if (progress.batchesDone === progress.batches) {
        finished = true;
        break;
      }
    }
  } finally {
    clearTimeout(idle);
    await messages.close().catch(() => undefined);
  }
  return { ...progress, failures: [...failures.values()], finished };
}
