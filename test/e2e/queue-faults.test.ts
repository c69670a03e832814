import test, { type ExecutionContext } from 'ava';
import { publishBatches } from '../../src/queue/client.js';
import { startNatsServer } from '../../harness/nats.js';
import { codeBatches, collectAll, connectClient, jobStarted, names, queueState } from '../../harness/queue.js';
import { waitFor } from '../../harness/probe.js';
import { startServer } from '../../harness/server.js';

/**
 * Faults of worker mode (issue 13) on a real nats-server and the real model: a worker killed with SIGKILL mid-batch
 * loses nothing (its job is redelivered to the other worker after the ack wait, shortened here), and a nats-server
 * restarted mid-run costs nothing either. Every chunk is checked to come out exactly once after the upsert.
 */

const ACK_WAIT = { EMBEDDING_NATS_ACK_WAIT_MS: '2000', EMBEDDING_NATS_NAK_DELAY_MS: '500', EMBEDDING_WORKERS: '1' };

function exactlyOnce(t: ExecutionContext, ids: string[], batches: ReturnType<typeof codeBatches>): void {
  const expected = batches.flatMap((b) => b.chunks.map((c) => c.chunk_id)).sort();
  t.deepEqual([...ids].sort(), expected, 'every chunk exactly once');
}

test.serial('two workers, one killed with SIGKILL mid-batch: its job is redelivered to the other, every chunk comes out exactly once', async (t) => {
  const nats = await startNatsServer();
  const nc = await connectClient(nats.url);
  const a = await startServer({ EMBEDDING_NATS_URL: nats.url, ...ACK_WAIT });
  const b = await startServer({ EMBEDDING_NATS_URL: nats.url, ...ACK_WAIT });
  try {
    await Promise.all([a.waitReady(), b.waitReady()]);
    await waitFor(async () => (await queueState(a)).connected && (await queueState(b)).connected);
    const batches = codeBatches(12, 4, 'kill', 6);
    await publishBatches(nc, names, 'kill', batches);
    await jobStarted(a);
    a.proc.kill('SIGKILL');
    const { lines, outcome } = await collectAll(nc, 'kill', batches);
    t.true(outcome.finished);
    t.is(outcome.failedBatches, 0);
    exactlyOnce(
      t,
      lines.map((l) => l.chunk_id),
      batches,
    );
    const state = await queueState(b);
    t.true(state.redeliveries >= 1, `the survivor received the dead worker's job again (${state.redeliveries} redeliveries)`);
  } finally {
    a.proc.kill('SIGKILL');
    await b.stop();
    await nc.close();
    await nats.stop();
  }
});

test.serial('the nats-server restarts mid-run: consumption resumes, nothing is lost, HTTP serves throughout', async (t) => {
  const nats = await startNatsServer();
  const nc = await connectClient(nats.url);
  const server = await startServer({ EMBEDDING_NATS_URL: nats.url, ...ACK_WAIT });
  try {
    await server.waitReady();
    await waitFor(async () => (await queueState(server)).connected);
    const batches = codeBatches(8, 4, 'restart', 4);
    await publishBatches(nc, names, 'restart', batches);
    // The collector runs throughout, as a user's would.
    const collected = collectAll(nc, 'restart', batches);
    await jobStarted(server);
    await nats.kill();
    // Disconnected: the worker says so, and HTTP is unaffected.
    const down = await waitFor(async () => {
      const s = await queueState(server);
      return s.connected ? undefined : s;
    });
    t.like(down, { connected: false, fetching: false });
    t.is((await fetch(`${server.url}/ready`)).status, 200);
    await nats.start();
    const { lines, outcome } = await collected;
    t.true(outcome.finished);
    exactlyOnce(
      t,
      lines.map((l) => l.chunk_id),
      batches,
    );
    t.true((await queueState(server)).connected);
  } finally {
    t.is(await server.stop(), 0);
    await nc.close();
    await nats.stop();
  }
});

test.serial('a job that outlasts the ack wait is not redelivered while its worker lives: it sends heartbeats', async (t) => {
  const nats = await startNatsServer();
  const nc = await connectClient(nats.url);
  // The shortest ack wait allowed (1 s), and batches of long chunks, so a batch is likely to run longer than it.
  const server = await startServer({ EMBEDDING_NATS_URL: nats.url, EMBEDDING_NATS_ACK_WAIT_MS: '1000', EMBEDDING_WORKERS: '1', EMBEDDING_MAX_BATCH_SIZE: '16' });
  try {
    await server.waitReady();
    const batches = codeBatches(2, 16, 'long', 8);
    await publishBatches(nc, names, 'long', batches);
    const { lines, outcome } = await collectAll(nc, 'long', batches);
    t.true(outcome.finished);
    t.is(lines.length, 32);
    t.is(outcome.duplicateResults, 0);
    // The worker counts a job completed once it is acknowledged, just after its result was published: wait for the count.
    const state = await waitFor(async () => {
      const now = await queueState(server);
      return now.jobs.completed + now.jobs.failed >= 2 ? now : undefined;
    });
    t.like(state, { redeliveries: 0, jobs: { completed: 2, failed: 0, retried: 0 } });
  } finally {
    t.is(await server.stop(), 0);
    await nc.close();
    await nats.stop();
  }
});
