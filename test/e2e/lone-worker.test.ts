/** The lone worker (issue 16) with the real model: it takes a batch alone in the pool, only then, and gives the same vectors. */
import test from 'ava';
import path from 'node:path';
import { defaultModelDir } from '../../src/model/files.js';
import { postJson, startServer, UNCACHED } from '../../harness/server.js';
import { LONE_AUTO_MIN_BUDGET_BYTES } from '../../src/supervisor/lone-worker.js';
import { EmbeddingPool } from '../../src/workers/pool.js';

const dir = defaultModelDir();
const pool = new EmbeddingPool(
  { workers: 2, intraOpThreads: 1, loneThreads: 2, dims: 384, graphPath: path.join(dir, 'model.onnx'), tokenizerPath: path.join(dir, 'tokenizer.json') },
  (error) => console.error(error),
);
test.after.always(() => pool.destroy());

const tasks = () => Object.fromEntries(pool.snapshot().map((w) => [`${w.role}${w.id}`, w.tasks]));
const loneTasks = () => pool.snapshot().find((w) => w.role === 'lone')!.tasks;
const texts = ['export function add(a: number, b: number): number { return a + b; }', 'Adds two numbers.'];

test.serial('a batch alone in the pool runs on the lone worker; a request of two batches runs on the regular ones', async (t) => {
  await pool.warmUp();
  t.is(pool.workers, 2, 'the lone worker is not a regular one');
  t.deepEqual(
    pool.snapshot().map((w) => w.role),
    ['regular', 'regular', 'lone'],
  );
  const alone = await pool.run(texts);
  t.is(loneTasks(), 1, JSON.stringify(tasks()));

  // Two batches handed over in the same tick, as the scheduler does for one request: neither is alone.
  const [a, b] = await Promise.all([pool.run(texts.slice(0, 1)), pool.run(texts.slice(1))]);
  t.is(loneTasks(), 1, JSON.stringify(tasks()));

  // The every-core session computes the same vectors (summation order may differ in the last bits).
  const regular = [...a.vectors, ...b.vectors];
  t.true(regular.every((x, i) => Math.abs(x - alone.vectors[i]!) < 1e-5));
});

test.serial('the lone worker is recycled like any other and comes back as the lone worker', async (t) => {
  await pool.warmUp();
  const lone = pool.snapshot().find((w) => w.role === 'lone')!;
  await pool.recycle(lone.id);
  const fresh = pool.snapshot().filter((w) => w.role === 'lone');
  t.is(fresh.length, 1);
  t.not(fresh[0]!.id, lone.id);
  await pool.run(texts);
  t.is(loneTasks(), 1);
});

test('unset, the service starts the lone worker under a roomy budget and not under a tight one; its vectors are the regular ones, bit for bit', async (t) => {
  const roles = async (env: Record<string, string>) => {
    const server = await startServer({ ...UNCACHED, ...env });
    await server.waitReady();
    try {
      const health = (await (await fetch(`${server.url}/health`)).json()) as { supervisor: { workers: { role: string }[] } };
      const alone = await postJson(`${server.url}/embed`, { batch_id: 'a', chunks: [{ chunk_id: 'q', content: texts[0] }] });
      t.is(alone.status, 200, alone.text);
      return { roles: health.supervisor.workers.map((w) => w.role).sort(), vector: alone.json.vectors[0].vector as number[] };
    } finally {
      await server.stop();
    }
  };
  const roomy = await roles({ EMBEDDING_MAX_MEMORY_MB: String(LONE_AUTO_MIN_BUDGET_BYTES / 2 ** 20) });
  const tight = await roles({ EMBEDDING_MAX_MEMORY_MB: String(LONE_AUTO_MIN_BUDGET_BYTES / 2 ** 20 - 1) });
  t.deepEqual(roomy.roles, ['lone', 'regular', 'regular']);
  t.deepEqual(tight.roles, ['regular', 'regular']);
  // A lone request ran on the two-thread session in one and on a one-thread session in the other.
  t.deepEqual(roomy.vector, tight.vector);
});
