import { once } from 'node:events';
import { jetstreamManager } from '@nats-io/jetstream';
import test from 'ava';
import { publishBatches } from '../../src/queue/client.js';
import { startNatsServer } from '../../harness/nats.js';
import { codeBatches, collectAll, connectClient, jobStarted, names, queueState } from '../../harness/queue.js';
import { jsonLines, waitFor } from '../../harness/probe.js';
import { startServer } from '../../harness/server.js';

/**
 * SIGTERM in worker mode (issue 13): fetching stops, the job in hand finishes, its result is published and it is
 * acknowledged, the process exits 0; the jobs it had not taken stay on the server for the next worker.
 */
test('SIGTERM drains: the running job completes and is acknowledged, the process exits 0, the rest waits for another worker', async (t) => {
  const nats = await startNatsServer();
  const nc = await connectClient(nats.url);
  const first = await startServer({ EMBEDDING_NATS_URL: nats.url, EMBEDDING_WORKERS: '1' });
  try {
    await first.waitReady();
    await waitFor(async () => (await queueState(first)).connected);
    const batches = codeBatches(6, 4, 'drain', 6);
    await publishBatches(nc, names, 'drain', batches);
    const running = await jobStarted(first);
    const exited = once(first.proc, 'exit');
    first.proc.kill('SIGTERM');
    t.is((await exited)[0], 0);
    const events = jsonLines(first.logs).filter((e) => e.component === 'queue' && e.event);
    t.true(
      events.some((e) => e.event.type === 'embedding.batch_completed.v1' && e.event.payload.batch_id === running),
      'the job running at the signal completed',
    );
    t.false(events.some((e) => e.event.type === 'embedding.batch_failed.v1'));
    // Nothing is left unacknowledged: the job in hand was acked, any fetched but not started was given back.
    const info = await (await jetstreamManager(nc)).consumers.info(names.stream, names.consumer);
    t.is(info.num_ack_pending, 0);
    t.true(info.num_pending > 0, 'jobs not taken stay on the server');
    const second = await startServer({ EMBEDDING_NATS_URL: nats.url, EMBEDDING_WORKERS: '1' });
    try {
      const { lines, outcome } = await collectAll(nc, 'drain', batches);
      t.true(outcome.finished);
      t.is(lines.length, 24);
      t.is(new Set(lines.map((l) => l.chunk_id)).size, 24);
    } finally {
      t.is(await second.stop(), 0);
    }
  } finally {
    await first.stop();
    await nc.close();
    await nats.stop();
  }
});

test('no NATS server at the address: HTTP serves and /ready says the queue is not connected; SIGTERM still exits 0', async (t) => {
  // A port nothing listens on: the worker keeps trying to connect, HTTP does not wait for it.
  const nats = await startNatsServer();
  const url = nats.url;
  await nats.stop();
  const server = await startServer({ EMBEDDING_NATS_URL: url, EMBEDDING_WORKERS: '1' });
  try {
    await server.waitReady();
    const ready = await fetch(`${server.url}/ready`);
    t.is(ready.status, 200);
    t.like(((await ready.json()) as { queue: object }).queue, { connected: false, fetching: false, pending: null });
    const res = await fetch(`${server.url}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(codeBatches(1, 2)[0]) });
    t.is(res.status, 200);
  } finally {
    t.is(await server.stop(), 0);
  }
});
