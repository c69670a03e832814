import type { NatsConfig } from '../config.js';

/**
 * Subjects, message ids and headers of the queue's wire format (docs/QUEUE.md), pure so they are tested without a
 * server and shared by the worker (src/queue/worker.ts) and the producer/collector (bin/embed-queue.ts).
 */

/** The names the worker and the producer agree on: config's EMBEDDING_NATS_* settings, or the defaults. */
export type QueueNames = Pick<NatsConfig, 'stream' | 'subject' | 'consumer' | 'resultsStream' | 'resultsSubject' | 'eventsSubject'>;

export const DEFAULT_NAMES: QueueNames = {
  stream: 'EMBEDDING_JOBS',
  subject: 'embedding.batches',
  consumer: 'embedding-workers',
  resultsStream: 'EMBEDDING_RESULTS',
  resultsSubject: 'embedding.results',
  eventsSubject: 'events',
};

/** Header naming how a job's vectors travel back: `float` (JSON numbers, the default) or `base64` (little-endian float32). */
export const ENCODING_HEADER = 'Embedding-Encoding';
export type VectorEncoding = 'float' | 'base64';

/** One subject token: no dots, spaces or wildcards, so `<prefix>.<job>` is always exactly one more token. */
const JOB_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function isJobId(job: string): boolean {
  return JOB_ID.test(job);
}

export const jobSubject = (names: QueueNames, job: string) => `${names.subject}.${job}`;
export const resultsSubject = (names: QueueNames, job: string) => `${names.resultsSubject}.${job}`;
export const eventsSubject = (names: QueueNames, job: string) => `${names.eventsSubject}.${job}`;

/** The job id a job message was published under, or undefined when its subject is not `<subject>.<job>`. */
export function jobFromSubject(names: QueueNames, subject: string): string | undefined {
  const prefix = `${names.subject}.`;
  if (!subject.startsWith(prefix)) return undefined;
  const job = subject.slice(prefix.length);
  return isJobId(job) ? job : undefined;
}

/** `Nats-Msg-Id` of a job and of its result: `<job>/<batch_id>`, so a republished batch is dropped as a duplicate. */
export const messageId = (job: string, batchId: string) => `${job}/${batchId}`;

/** The job and batch ids of a `Nats-Msg-Id`; undefined when it is not `<job>/<batch_id>` with a valid job id. */
export function parseMessageId(id: string | undefined): { job: string; batchId: string } | undefined {
  if (id === undefined) return undefined;
  const slash = id.indexOf('/');
  if (slash <= 0) return undefined;
  const job = id.slice(0, slash);
  return isJobId(job) ? { job, batchId: id.slice(slash + 1) } : undefined;
}

/** The encoding a job asks for; an error message for anything but `float` or `base64` (absent: `float`). */
export function parseEncoding(value: string | undefined): VectorEncoding | { error: string } {
  if (value === undefined || value === '') return 'float';
  const v = value.trim().toLowerCase();
  if (v === 'float' || v === 'base64') return v;
  return { error: `${ENCODING_HEADER} must be float or base64, not ${JSON.stringify(value)}` };
}
