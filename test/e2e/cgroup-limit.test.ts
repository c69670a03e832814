/**
 * The memory budget under a real kernel limit: the server started inside a child memory cgroup finds
 * it on its own (no EMBEDDING_CGROUP_ROOT), reports it, and follows the limit when it is lowered and
 * raised while it runs. Needs root and a writable cgroup hierarchy, which these machines and CI have;
 * where they are missing the test fails saying so, rather than passing without having run.
 */
import test from 'ava';
import { createChildCgroup } from '../../harness/cgroup.js';
import { startServer } from '../../harness/server.js';

const MiB = 1024 * 1024;

interface Health {
  supervisor: {
    budget_bytes: number;
    budget_source: string;
    limit_bytes: number;
    limit_file: string | null;
    cgroup: { version: number | null; path: string | null; limit_bytes: number | null; limit_file: string | null; working_set_bytes: number | null };
  };
}

const health = async (url: string) => (await (await fetch(`${url}/health`)).json()) as Health;

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('inside a child cgroup with a real 1 GiB limit, the budget is 70% of it, and follows the limit down and up', async (t) => {
  const cgroup = await createChildCgroup(`doctown-embed-test-${process.pid}`);
  if (typeof cgroup === 'string') {
    t.fail(`no real kernel limit could be set up here: ${cgroup}`);
    return;
  }
  t.teardown(() => cgroup.remove());
  cgroup.setLimit(1024 * MiB);
  const server = await startServer({ EMBEDDING_MEMORY_SAMPLE_MS: '100', EMBEDDING_CGROUP_ROOT: '' }, { wrap: cgroup.wrap });
  t.teardown(() => server.stop());
  await server.waitReady();

  const limitFile = `${cgroup.dir}/${cgroup.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'}`;
  const first = (await health(server.url)).supervisor;
  t.like(first, { budget_source: 'cgroup', limit_bytes: 1024 * MiB, limit_file: limitFile, budget_bytes: Math.floor(1024 * MiB * 0.7) });
  t.like(first.cgroup, { version: cgroup.version, path: cgroup.dir, limit_bytes: 1024 * MiB });
  t.true((first.cgroup.working_set_bytes ?? 0) > 0, 'the working set of the cgroup is read');
  const started = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.supervisor === 'start');
  t.like(started, { cgroup_path: cgroup.dir, limit_file: limitFile, cgroup_version: cgroup.version });

  // Lowered while running (as docker update --memory or a Kubernetes resize would): the budget follows.
  cgroup.setLimit(900 * MiB);
  const lowered = await until(() => health(server.url), (h) => h.supervisor.limit_bytes === 900 * MiB, 'the lowered limit');
  t.is(lowered.supervisor.budget_bytes, Math.floor(900 * MiB * 0.7));
  t.true(server.logs.some((l) => l.includes('"supervisor":"budget"')), 'the change is logged as a supervisor decision');

  cgroup.setLimit(2048 * MiB);
  const raised = await until(() => health(server.url), (h) => h.supervisor.limit_bytes === 2048 * MiB, 'the raised limit');
  t.is(raised.supervisor.budget_bytes, Math.floor(2048 * MiB * 0.7));

  const embedded = await fetch(`${server.url}/embed`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ batch_id: 'b', chunks: [{ chunk_id: 'a', content: 'inside a cgroup' }] }),
  });
  t.is(embedded.status, 200);
  t.is((await server.stop()) ?? 0, 0);
  t.is(cgroup.stats().oomKills ?? 0, 0);
});

test('under a real 700 MiB limit with EMBEDDING_MAX_BATCH_TOKENS=16384, no batch starts that the budget cannot hold: no OOM kill, every chunk back once', async (t) => {
  const cgroup = await createChildCgroup(`doctown-embed-test-big-${process.pid}`);
  if (typeof cgroup === 'string') {
    t.fail(`no real kernel limit could be set up here: ${cgroup}`);
    return;
  }
  t.teardown(() => cgroup.remove());
  cgroup.setLimit(700 * MiB);
  // The setting issue 19 found killed in a second: two workers each starting a 64 × 256 batch (about 1 GB each).
  const server = await startServer({ EMBEDDING_MAX_BATCH_SIZE: '64', EMBEDDING_MAX_BATCH_TOKENS: '16384', EMBEDDING_CGROUP_ROOT: '' }, { wrap: cgroup.wrap });
  t.teardown(() => server.stop());
  await server.waitReady();
  // Every chunk far past 256 word pieces, so every row is full length: the most expensive shape there is.
  const chunks = Array.from({ length: 96 }, (_, i) => ({ chunk_id: `c${i}`, content: `function f${i}(a, b) { return a * ${i} + b; } `.repeat(40) }));
  const requests = [0, 1].map(async (r) => {
    const res = await fetch(`${server.url}/embed`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ batch_id: `big-${r}`, chunks }),
    });
    return { status: res.status, body: (await res.json()) as { vectors?: Array<{ chunk_id: string; vector: number[]; truncated: boolean }> } };
  });
  for (const { status, body } of await Promise.all(requests)) {
    t.is(status, 200);
    t.deepEqual(
      body.vectors?.map((e) => e.chunk_id),
      chunks.map((c) => c.chunk_id),
    );
    t.true(body.vectors!.every((e) => e.vector.length === 384 && e.truncated));
  }
  const report = (await health(server.url)).supervisor as unknown as { headroom?: { max_rows_at_full_length: number; memory_waits: number } };
  t.true(report.headroom !== undefined && report.headroom.max_rows_at_full_length < 64, `effective cap ${report.headroom?.max_rows_at_full_length} full-length rows`);
  t.is((await server.stop()) ?? 0, 0);
  const kernel = cgroup.stats();
  t.is(kernel.oomKills ?? 0, 0, 'the kernel killed nothing');
  t.log(`kernel peak ${Math.round((kernel.peakBytes ?? 0) / MiB)} MiB of 700, failcnt ${kernel.failcnt}; memory waits ${report.headroom?.memory_waits}`);
});
