import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import test from 'ava';
import { publishBatches } from '../../src/queue/client.js';
import { ENCODING_HEADER, jobSubject, messageId, resultsSubject } from '../../src/queue/subjects.js';
import { ReadyResponse } from '../../src/router/schemas.js';
import { startNatsServer } from '../../harness/nats.js';
import { codeBatches, collectAll, connectClient, jobEvents, names, queueState, storedMessages } from '../../harness/queue.js';
import { postJson, startServer } from '../../harness/server.js';
import { waitFor } from '../../harness/probe.js';

/**
 * The queue's worker mode (issue 13) on a real nats-server and the real model: the same chunks give the same vectors
 * over HTTP and over the queue; a republished job is dropped; a malformed job is terminated once, with its failure
 * published. One server process, one nats-server, shared by the serial tests.
 */

const nats = await startNatsServer();
const server = await startServer({ EMBEDDING_NATS_URL: nats.url, EMBEDDING_WORKERS: '1' });
const nc = await connectClient(nats.url);
test.after.always(async () => {
  await nc.close();
  await server.stop();
  await nats.stop();
});

test.serial('/ready reports the consumer, connected, with HTTP ready', async (t) => {
  await server.waitReady();
  const ready = await waitFor(async () => {
    const body = ReadyResponse.parse(await (await fetch(`${server.url}/ready`)).json());
    return body.queue?.connected ? body : undefined;
  });
  t.is(ready.status, 'ready');
  t.like(ready.queue, { connected: true, fetching: true, stream: names.stream, consumer: names.consumer });
});

test.serial('jobs in, results out: the same vectors as POST /embed, in /embed’s shape, float and base64', async (t) => {
  const batches = codeBatches(2, 5, 'same');
  await publishBatches(nc, names, 'same', batches.slice(0, 1));
  await publishBatches(nc, names, 'same', batches.slice(1), 'base64');
  const { lines, outcome } = await collectAll(nc, 'same', batches);
  t.true(outcome.finished);
  t.is(lines.length, 10);
  for (const batch of batches) {
    const res = await postJson(`${server.url}/embed`, batch);
    t.is(res.status, 200);
    const http = res.json as { vectors: Array<{ chunk_id: string; vector: number[]; tokens: number; truncated: boolean }> };
    for (const expected of http.vectors) {
      const got = lines.find((l) => l.chunk_id === expected.chunk_id)!;
      const vector = typeof got.vector === 'string' ? Array.from(new Float32Array(new Uint8Array(Buffer.from(got.vector, 'base64')).buffer)) : got.vector;
      t.deepEqual(vector, expected.vector, `${expected.chunk_id}: identical vector`);
      t.is(got.tokens, expected.tokens);
      t.is(got.truncated, expected.truncated);
    }
  }
  // The result message itself is /embed's response: batch_id, vectors, model, dimensions, usage, timing_ms.
  const [stored] = await storedMessages(nc, resultsSubject(names, 'same'));
  const body = stored!.json<Record<string, unknown>>();
  t.deepEqual(Object.keys(body), ['batch_id', 'vectors', 'model', 'dimensions', 'usage', 'timing_ms']);
  t.is(stored!.headers?.get('Nats-Msg-Id'), messageId('same', batches[0]!.batch_id));
  const events = await jobEvents(nc, 'same');
  t.is(events.filter((e) => e.type === 'embedding.batch_completed.v1').length, 2);
});

test.serial('a republished job is dropped by the server: one result per batch', async (t) => {
  const batches = codeBatches(1, 3, 'dup');
  const first = await publishBatches(nc, names, 'dup', batches);
  const again = await publishBatches(nc, names, 'dup', batches);
  t.deepEqual(first, { published: 1, duplicates: 0 });
  t.deepEqual(again, { published: 0, duplicates: 1 });
  const { lines } = await collectAll(nc, 'dup', batches);
  t.is(lines.length, 3);
  t.is((await storedMessages(nc, resultsSubject(names, 'dup'))).length, 1);
});

test.serial('a malformed job is terminated once, its failure published as a result and a batch_failed event naming the reason', async (t) => {
  const js = jetstream(nc);
  await js.publish(jobSubject(names, 'bad'), 'not json', { msgID: messageId('bad', 'b1') });
  await js.publish(jobSubject(names, 'bad'), JSON.stringify({ batch_id: 'b2', chunks: [{ chunk_id: 'x', content: 7 }] }), { msgID: messageId('bad', 'b2') });
  const h = headers();
  h.set(ENCODING_HEADER, 'hex');
  await js.publish(jobSubject(names, 'bad'), JSON.stringify({ batch_id: 'b3', chunks: [{ chunk_id: 'x', content: 'ok' }] }), { msgID: messageId('bad', 'b3'), headers: h });
  const results = await waitFor(async () => {
    const stored = await storedMessages(nc, resultsSubject(names, 'bad'));
    return stored.length === 3 ? stored.map((m) => m.json<{ batch_id: string; error: { code: string; message: string } }>()) : undefined;
  }, 200);
  t.deepEqual(
    results.map((r) => [r.batch_id, r.error.code]),
    [
      ['b1', 'invalid_json'],
      ['b2', 'validation_failed'],
      ['b3', 'invalid_job'],
    ],
  );
  t.regex(results[1]!.error.message, /chunks\[0\]\.content/);
  const failed = (await jobEvents(nc, 'bad')).filter((e) => e.type === 'embedding.batch_failed.v1');
  t.deepEqual(
    failed.map((e) => [e.payload.batch_id, e.payload.error_code]),
    [
      ['b1', 'invalid_json'],
      ['b2', 'validation_failed'],
      ['b3', 'invalid_job'],
    ],
  );
  t.regex(String(failed[1]!.payload.reason), /chunks\[0\]\.content/);
  // Terminated, not left to be redelivered: the work queue holds nothing and nothing awaits an ack.
  const jsm = await jetstreamManager(nc);
  const info = await waitFor(async () => {
    const i = await jsm.consumers.info(names.stream, names.consumer);
    return i.num_ack_pending === 0 && i.num_pending === 0 ? i : undefined;
  }, 200);
  t.is(info.num_redelivered, 0);
  t.is((await jsm.streams.info(names.stream)).state.messages, 0);
  t.like(await queueState(server), { redeliveries: 0 });
});
