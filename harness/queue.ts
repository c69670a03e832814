import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { collectResults, type Batch, type CollectOutcome, type ResultLine } from '../src/queue/client.js';
import { DEFAULT_NAMES, eventsSubject } from '../src/queue/subjects.js';
import { jsonLines, waitFor } from './probe.js';
import type { RunningServer } from './server.js';

/** Helpers the queue tests and the proof share: a client connection, batches of code-like chunks, collection, logs. */

export const names = DEFAULT_NAMES;

export function connectClient(url: string): Promise<NatsConnection> {
  return connect({ servers: url, name: 'test-client', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
}

/** `count` batches of `size` distinct code chunks (`repeat` times a short function: 4 or more reach 256 word pieces), ids `<prefix>-<batch>-<chunk>`. */
export function codeBatches(count: number, size: number, prefix = 'q', repeat = 1): Batch[] {
  return Array.from({ length: count }, (_, b) => ({
    batch_id: `${prefix}${String(b + 1).padStart(4, '0')}`,
    chunks: Array.from({ length: size }, (_, c) => ({
      chunk_id: `${prefix}-${b}-${c}`,
      content: `export function handler${b}_${c}(request: Request): number {\n  return request.size * ${b + c} + ${c};\n}\n`.repeat(repeat),
    })),
  }));
}

/** Every result line of a job, collected with the CLI's collector (upsert by batch and chunk). */
export async function collectAll(nc: NatsConnection, job: string, batches: readonly Batch[], idleTimeoutMs = 240_000): Promise<{ lines: ResultLine[]; outcome: CollectOutcome }> {
  const lines: ResultLine[] = [];
  const outcome = await collectResults(nc, names, job, batches, (line) => void lines.push(line), { idleTimeoutMs });
  return { lines, outcome };
}

/** Every message stored under a subject of the results stream (results or events), in order. */
export async function storedMessages(nc: NatsConnection, subject: string): Promise<JsMsg[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(names.resultsStream, { subjects_filter: subject });
  const total = info.state.subjects?.[subject] ?? 0;
  if (total === 0) return [];
  const consumer = await jetstream(nc).consumers.get(names.resultsStream, { filter_subjects: subject });
  const out: JsMsg[] = [];
  const messages = await consumer.fetch({ max_messages: total, expires: 5000 });
  for await (const m of messages) out.push(m);
  return out;
}

/** The events of a job, parsed. */
export async function jobEvents(nc: NatsConnection, job: string): Promise<Array<{ type: string; payload: Record<string, unknown> }>> {
  return (await storedMessages(nc, eventsSubject(names, job))).map((m) => m.json());
}

/** Resolves once the server has logged the start of a queue job (its batch_started event). */
export function jobStarted(server: RunningServer): Promise<string> {
  return waitFor(() => jsonLines(server.logs).find((e) => e.component === 'queue' && e.event?.type === 'embedding.batch_started.v1')?.event.payload.batch_id as string | undefined);
}

/** The queue part of /ready. */
export async function queueState(server: RunningServer): Promise<Record<string, any>> {
  return ((await (await fetch(`${server.url}/ready`)).json()) as { queue: Record<string, any> }).queue;
}
