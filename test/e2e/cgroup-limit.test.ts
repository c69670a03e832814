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
