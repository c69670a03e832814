import { AckPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { QueueNames } from './subjects.js';

/** How long the server remembers a `Nats-Msg-Id` to drop a republished job (or result) as a duplicate. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;
/** Results and events are kept this long, so a collector that connects late, or runs again, misses nothing. */
export const RESULTS_MAX_AGE_MS = 7 * 24 * 3600_000;
/** Most jobs one consumer hands out unacknowledged at once, across every replica. */
const MAX_ACK_PENDING = 10_000;

const notFound = (error: unknown, code: number) => error instanceof JetStreamApiError && error.code === code;

/**
 * Creates the jobs stream, the results stream and the shared durable consumer when missing (docs/QUEUE.md has the
 * settings and why). What exists is used as it is: an operator's changes to a stream or consumer are not undone.
 * Both the worker and the producer call this, so whichever starts first sets things up.
 */
export async function ensureStreams(jsm: JetStreamManager, names: QueueNames, consumer?: { ackWaitMs: number }): Promise<void> {
  await ensureStream(jsm, {
    name: names.stream,
    subjects: [`${names.subject}.>`],
    // A job leaves the stream once acknowledged: the stream holds only work not yet done, which is the lag KEDA reads.
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  });
  await ensureStream(jsm, {
    name: names.resultsStream,
    subjects: [`${names.resultsSubject}.>`, `${names.eventsSubject}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(RESULTS_MAX_AGE_MS),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  });
  if (!consumer) return;
  try {
    await jsm.consumers.info(names.stream, names.consumer);
  } catch (error) {
    if (!notFound(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    await jsm.consumers.add(names.stream, {
      durable_name: names.consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(consumer.ackWaitMs),
      // The worker enforces EMBEDDING_NATS_MAX_DELIVER itself: a job past it has its failure published before it is
      // terminated, where the server's own limit would drop it with only an advisory.
      max_deliver: -1,
      filter_subject: `${names.subject}.>`,
      max_ack_pending: MAX_ACK_PENDING,
    });
  }
}

async function ensureStream(jsm: JetStreamManager, config: Parameters<JetStreamManager['streams']['add']>[0] & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (error) {
    if (!notFound(error, JetStreamApiCodes.StreamNotFound)) throw error;
    await jsm.streams.add(config);
  }
}
