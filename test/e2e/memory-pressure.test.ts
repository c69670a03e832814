/**
 * End to end with the real model: a server whose memory budget sits a little above its idle
 * footprint, fed batches big enough to blow through it, must shrink, recycle, recover, and still
 * return every vector as a server under no pressure does.
 */
import test from 'ava';
import { EmbedResponse } from '../../src/router/schemas.js';
import { jsonLines } from '../../harness/probe.js';
import { cosine, postJson, startServer, type RunningServer } from '../../harness/server.js';

const MB = 1024 * 1024;
let reference: RunningServer | undefined;
let pressured: RunningServer | undefined;

test.after.always(async () => {
  await Promise.all([reference?.stop(), pressured?.stop()]);
});

async function health(server: RunningServer) {
  const res = await fetch(`${server.url}/health`);
  return (await res.json()) as { supervisor: Record<string, any> };
}

const supervisorLogs = (server: RunningServer) => jsonLines(server.logs).filter((entry) => typeof entry.supervisor === 'string');

// Long chunks (each cut at 256 word pieces), all different, so one batch of 50-odd of them grows a
// worker's ONNX arena by about half a gigabyte.
// 130 chunks make three batches of 43-44: two start at once, the third meets the shrunk limits.
const chunks = Array.from({ length: 130 }, (_, i) => ({
  chunk_id: `file-${i}.ts#${i % 7}`,
  content: Array.from({ length: 40 }, (_, line) => `  const v${i}_${line} = table[${(i * 31 + line) % 97}] ?? compute("k${line}", ${i});`).join('\n'),
}));

test('under a tight budget every vector matches the unpressured server while the supervisor shrinks, recycles and recovers', async (t) => {
  reference = await startServer({ EMBEDDING_MEMORY_SAMPLE_MS: '200' });
  await reference.waitReady();
  const expected = EmbedResponse.parse((await postJson(`${reference.url}/embed`, { batch_id: 'ref', chunks })).json);
  const idle = (await health(reference)).supervisor.rss_bytes as number;
  await reference.stop();
  reference = undefined;

  // Idle fits with room for minimum-size batches; a full batch of long chunks on each worker does not.
  const budgetMb = Math.round(idle / MB) + 400;
  pressured = await startServer({
    EMBEDDING_MAX_MEMORY_MB: String(budgetMb),
    EMBEDDING_MAX_BATCH_TOKENS: '16384',
    EMBEDDING_MEMORY_SAMPLE_MS: '100',
    EMBEDDING_MAX_PAUSE_MS: '3000',
  });
  await pressured.waitReady();
  const res = await postJson(`${pressured.url}/embed`, { batch_id: 'tight', chunks });
  t.is(res.status, 200, res.text.slice(0, 300));
  const body = EmbedResponse.parse(res.json);
  t.deepEqual(
    body.vectors.map((e) => e.chunk_id),
    chunks.map((c) => c.chunk_id),
  );
  let lowest = 1;
  body.vectors.forEach((e, i) => {
    lowest = Math.min(lowest, cosine(e.vector, expected.vectors[i]!.vector));
    t.is(e.tokens, expected.vectors[i]!.tokens);
  });
  t.true(lowest >= 0.99999, `lowest cosine ${lowest}`);

  // Recovery: once the work is done and memory is calm, the limits grow back to their maxima. How long
  // that takes depends on how busy the machine is, so the wait is bounded only far beyond any normal run.
  let state = (await health(pressured)).supervisor;
  for (let i = 0; i < 2400 && !(state.batch_size === 64 && state.concurrency === 2 && !state.refusing); i++) {
    await new Promise((r) => setTimeout(r, 100));
    state = (await health(pressured)).supervisor;
  }
  t.like(
    state,
    { budget_bytes: budgetMb * MB, budget_source: 'EMBEDDING_MAX_MEMORY_MB', batch_size: 64, concurrency: 2, paused: false, refusing: false },
    `last decisions: ${JSON.stringify(supervisorLogs(pressured).slice(-6).map((l) => l.reason ?? l.msg))}; workers: ${JSON.stringify(state.workers)}`,
  );
  t.true(state.recycles >= 1, 'a worker holding a grown arena was recycled');
  t.true(state.peak_rss_bytes > state.budget_bytes * 0.9, 'the budget was really under pressure');

  const logs = supervisorLogs(pressured);
  const shrinkAt = logs.findIndex((l) => l.supervisor === 'batch-size' && l.to < l.from);
  t.not(shrinkAt, -1, 'the batch size shrank');
  t.true(
    logs.slice(shrinkAt).some((l) => (l.supervisor === 'batch-size' || l.supervisor === 'concurrency') && l.to > l.from),
    'and grew back',
  );
  t.true(logs.some((l) => l.supervisor === 'recycle' && typeof l.reason === 'string'));
  for (const l of logs.filter((l) => l.supervisor === 'batch-size' || l.supervisor === 'concurrency')) {
    t.true(typeof l.reason === 'string' && l.rss_bytes > 0 && l.budget_bytes === budgetMb * MB, JSON.stringify(l));
  }
  t.log(`budget ${budgetMb} MB, peak RSS ${Math.round(state.peak_rss_bytes / MB)} MB, ${logs.length} decisions, ${state.recycles} recycles, lowest cosine ${lowest}`);
});
