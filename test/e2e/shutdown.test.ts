import { once } from 'node:events';
import test from 'ava';
import { ReadyResponse } from '../../src/router/schemas.js';
import { jsonLines, metricValue, waitFor } from '../../harness/probe.js';
import { postJson, startServer, type RunningServer } from '../../harness/server.js';

/**
 * Graceful shutdown and readiness, on the real server process: SIGTERM/SIGINT turn /ready to 503,
 * let requests in flight finish, close the listener, destroy the pool and exit 0. No timings are
 * asserted; each test waits for observable states instead.
 */

const exitCode = async (server: RunningServer) => (server.proc.exitCode !== null ? server.proc.exitCode : ((await once(server.proc, 'exit'))[0] as number | null));
const logMessages = (server: RunningServer): string[] => jsonLines(server.logs).map((entry) => entry.msg as string);
const inFlightBatches = (server: RunningServer) => metricValue(server.url, 'embedding_inflight_batches');

const work = (n: number, repeat: number) => ({
  batch_id: 'in-flight',
  chunks: Array.from({ length: n }, (_, i) => ({ chunk_id: `c${i}`, content: `const value${i} = compute(${i}, "text");\n`.repeat(repeat) })),
});

test.serial('/ready is 503 while loading and 200 once ready; /health is liveness', async (t) => {
  const server = await startServer();
  try {
    const early = await fetch(`${server.url}/ready`);
    const body = ReadyResponse.parse(await early.json());
    t.true(early.status === 503 ? body.status === 'loading' : early.status === 200 && body.status === 'ready');
    await server.waitReady();
    const ready = await fetch(`${server.url}/ready`);
    t.is(ready.status, 200);
    t.deepEqual(await ready.json(), { status: 'ready' });
  } finally {
    t.is(await server.stop(), 0);
  }
});

test.serial('SIGTERM: /ready turns 503, the request in flight completes in full, then the listener closes and the process exits 0', async (t) => {
  // A drain delay keeps the listener open after the signal, so readiness can be observed failing.
  const server = await startServer({ EMBEDDING_SHUTDOWN_DELAY_MS: '1500', EMBEDDING_SHUTDOWN_TIMEOUT_MS: '60000' });
  await server.waitReady();
  const request = work(120, 4);
  const inFlight = postJson(`${server.url}/embed`, request);
  await waitFor(async () => ((await inFlightBatches(server)) > 0 ? true : undefined));

  server.proc.kill('SIGTERM');
  const draining = await waitFor(async () => {
    const res = await fetch(`${server.url}/ready`).catch(() => undefined);
    return res?.status === 503 ? res : undefined;
  });
  t.deepEqual(await draining.json(), { status: 'draining' });
  t.is(draining.headers.get('connection'), 'close', 'responses while draining close their connections');
  t.is((await fetch(`${server.url}/health`)).status, 200, 'liveness is unaffected by draining');

  const res = await inFlight;
  t.is(res.status, 200);
  t.is(res.json.vectors.length, request.chunks.length);
  t.deepEqual(
    res.json.vectors.map((e: { chunk_id: string }) => e.chunk_id),
    request.chunks.map((c) => c.chunk_id),
  );

  t.is(await exitCode(server), 0);
  // After exit nothing listens on the port any more.
  await t.throwsAsync(fetch(`${server.url}/health`));
  const messages = logMessages(server);
  for (const m of ['shutting down: draining', 'closing the listener; waiting for requests in flight', 'worker pool destroyed', 'shutdown complete']) {
    t.true(messages.includes(m), m);
  }
});

test.serial('SIGINT also shuts down gracefully with exit 0', async (t) => {
  const server = await startServer();
  await server.waitReady();
  t.is((await postJson(`${server.url}/embed`, { batch_id: 'b', chunks: [{ chunk_id: 'c', content: 'x' }] })).status, 200);
  server.proc.kill('SIGINT');
  t.is(await exitCode(server), 0);
  t.true(logMessages(server).includes('shutdown complete'));
});

test.serial('a signal while the model is still loading still exits 0', async (t) => {
  const server = await startServer();
  server.proc.kill('SIGTERM');
  t.is(await exitCode(server), 0);
  t.false(server.stderr().includes('could not be loaded'));
});

test.serial('a request still running at EMBEDDING_SHUTDOWN_TIMEOUT_MS is cut off, and the process still exits 0', async (t) => {
  const server = await startServer({ EMBEDDING_SHUTDOWN_TIMEOUT_MS: '200' });
  await server.waitReady();
  // Far more work than 200 ms on two cores: thousands of chunks of 256 word pieces.
  const inFlight = postJson(`${server.url}/embed`, work(3000, 40)).then(
    (res) => res.status,
    () => 'cut off',
  );
  await waitFor(async () => ((await inFlightBatches(server)) > 0 ? true : undefined));
  server.proc.kill('SIGTERM');
  t.is(await exitCode(server), 0);
  t.is(await inFlight, 'cut off');
});
