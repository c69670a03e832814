import test from 'ava';
import { pino } from 'pino';
import { RuntimeLimits } from '../src/core/runtime-limits.js';
import { BatchScheduler } from '../src/core/scheduler.js';
import { refuseUnderMemoryPressure } from '../src/router/admission.js';
import { resolveBudget } from '../src/supervisor/budget.js';
import { NO_CGROUP } from '../src/supervisor/cgroup.js';
import type { MemorySample } from '../src/supervisor/sample.js';
import { MemorySupervisor, type SupervisedPool } from '../src/supervisor/loop.js';
import type { WorkerSnapshot } from '../src/workers/pool.js';
import { MB, testPolicy } from '../harness/policy.js';

/** `cgroupLimitsMb`: the cgroup limit at each sample, followed by a 70% budget; absent, a fixed budget. */
function harness(readingsMb: number[], cgroupLimitsMb?: number[]) {
  const limits = new RuntimeLimits({ minBatchSize: 8, maxBatchSize: 64, maxConcurrency: 2 });
  const recycled: number[] = [];
  const workers: WorkerSnapshot[] = [
    { id: 0, role: 'regular', state: 'ready', busy: false, tasks: 0, estimatedBytes: 10 * MB, arenaBytes: 0, peakBatchTokens: 0 },
    { id: 1, role: 'regular', state: 'ready', busy: false, tasks: 0, estimatedBytes: 10 * MB, arenaBytes: 0, peakBatchTokens: 0 },
  ];
  const pool: SupervisedPool = {
    workers: 2,
    get recycles() {
      return recycled.length;
    },
    snapshot: () => workers.map((w) => ({ ...w })),
    idleForMs: () => 0,
    async recycle(id) {
      recycled.push(id);
      workers[id]!.tasks = 0;
    },
  };
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  let now = 0;
  let i = 0;
  const cgroupAt = (n: number) =>
    cgroupLimitsMb ? { ...NO_CGROUP, version: 1 as const, limitBytes: cgroupLimitsMb[Math.min(n, cgroupLimitsMb.length - 1)]! * MB, limitFile: '/cg/memory.limit_in_bytes' } : NO_CGROUP;
  const sampler = async (): Promise<MemorySample> => {
    const n = i++;
    return {
      at: now,
      rssBytes: readingsMb[Math.min(n, readingsMb.length - 1)]! * MB,
      cpuPercent: 50,
      systemTotalBytes: 16_000 * MB,
      systemFreeBytes: 8_000 * MB,
      cgroup: cgroupAt(n),
    };
  };
  const budgetFor = (cgroup: MemorySample['cgroup']) => resolveBudget({ percent: 70, absoluteMb: undefined, totalBytes: 16_000 * MB, cgroup });
  const policy = testPolicy({ growAfterSamples: 2, maxPauseMs: 300, recycleAfterTasks: 50, arenaBytesFor: (n) => n * MB });
  const supervisor = new MemorySupervisor({
    policy,
    budget: cgroupLimitsMb ? budgetFor(cgroupAt(0)) : { budgetBytes: 1000 * MB, limitBytes: 2000 * MB, source: 'EMBEDDING_MAX_MEMORY_MB', limitFile: null },
    ...(cgroupLimitsMb ? { rebudget: budgetFor } : {}),
    sampleIntervalMs: 100,
    sampler,
    limits,
    pool,
    logger,
    now: () => now,
  });
  const tick = async () => {
    const actions = await supervisor.tick();
    now += 100;
    return actions;
  };
  return { limits, supervisor, logs, workers, recycled, tick };
}

test('the supervisor drives RuntimeLimits, pauses the scheduler, refuses, then recovers, logging every step', async (t) => {
  const { limits, supervisor, logs, tick } = harness([950, 1100, 1100, 1100, 1100, 1100, 1100, 1100, 800, 500, 500, 500, 500]);
  let ran = 0;
  const scheduler = new BatchScheduler<number>(async (texts) => (ran += texts.length), limits);

  await tick(); // 95%: halve
  t.is(limits.batchSize, 32);
  await tick(); // 110%: minimum batch
  t.is(limits.batchSize, 8);
  await tick(); // concurrency 1
  t.is(limits.concurrency, 1);
  await tick(); // floor: pause
  t.true(limits.paused);
  // While paused, a submitted batch waits rather than starts.
  const waiting = scheduler.submit({}, ['a', 'b']);
  await new Promise((r) => setImmediate(r));
  t.is(ran, 0);
  t.is(scheduler.queued, 1);
  await tick();
  await tick();
  await tick(); // 300 ms after the pause: resume, refuse
  t.false(limits.paused);
  t.true(supervisor.refusing);
  t.is(await waiting, 2, 'the accepted batch ran once dispatch resumed');

  // The admission gate answers 503 with Retry-After while refusing (a 10 MB body: more than a small request).
  const gate = refuseUnderMemoryPressure(supervisor);
  const refused = await new Promise<any>((resolve) => gate({ headers: { 'content-length': String(10 * MB) } } as never, {} as never, resolve));
  t.like(refused, { status: 503, code: 'memory_pressure' });
  t.is(refused.headers['Retry-After'], String(supervisor.retryAfterSeconds));

  await tick(); // 110% still
  await tick(); // 80%: admit
  t.false(supervisor.refusing);
  await tick(); // 50%
  await tick(); // 50%: grow concurrency
  t.is(limits.concurrency, 2);
  await tick();
  await tick(); // grow batch
  t.is(limits.batchSize, 16);

  const report = supervisor.report();
  t.like(report, { budget_bytes: 1000 * MB, pressure: 'calm', batch_size: 16, concurrency: 2, paused: false, refusing: false, peak_rss_bytes: 1100 * MB });
  const steps = logs.filter((l) => typeof l.supervisor === 'string').map((l) => l.supervisor);
  t.deepEqual(steps, ['batch-size', 'batch-size', 'concurrency', 'pause', 'resume', 'refuse', 'admit', 'concurrency', 'batch-size']);
  for (const line of logs.filter((l) => l.supervisor === 'batch-size')) {
    t.true(typeof line.reason === 'string' && typeof line.rss_bytes === 'number' && typeof line.budget_bytes === 'number' && typeof line.from === 'number');
  }
});

test('the supervisor recycles a worker that reached its task limit, one at a time', async (t) => {
  const { workers, recycled, tick, supervisor, logs } = harness([100, 100, 100]);
  workers[1]!.tasks = 50;
  workers[0]!.tasks = 60;
  await tick();
  await supervisor.settled();
  t.deepEqual(recycled, [0]);
  await tick();
  await supervisor.settled();
  t.deepEqual(recycled, [0, 1]);
  t.true(logs.some((l) => l.supervisor === 'recycled' && l.worker === 0 && l.cause === 'tasks'));
});

test('a cgroup limit changed at run time moves the budget, and the policy acts on the new one', async (t) => {
  // RSS holds at 600 MB; the limit drops from 2,000 MB (budget 1,400) to 800 MB (budget 560), then comes back.
  const { supervisor, logs, limits, tick } = harness([600, 600, 600, 600], [2000, 800, 800, 2000]);
  await tick();
  t.is(supervisor.report().budget_bytes, Math.floor(2000 * MB * 0.7));
  t.is(limits.batchSize, 64);
  await tick();
  t.is(supervisor.report().budget_bytes, Math.floor(800 * MB * 0.7));
  t.is(supervisor.report().limit_file, '/cg/memory.limit_in_bytes');
  t.is(limits.batchSize, 8, 'over the new budget: straight to the minimum batch');
  const change = logs.find((l) => l.supervisor === 'budget');
  t.like(change, { from: Math.floor(2000 * MB * 0.7), to: Math.floor(800 * MB * 0.7), limit_bytes: 800 * MB, limit_file: '/cg/memory.limit_in_bytes' });
  await tick();
  await tick();
  t.is(supervisor.report().budget_bytes, Math.floor(2000 * MB * 0.7));
  t.is(logs.filter((l) => l.supervisor === 'budget').length, 2);
});
