import test from 'ava';
import { decide, initialState, pressureLevel, type PolicyState, type WorkerView } from '../src/supervisor/policy.js';
import { MB, testPolicy } from '../harness/policy.js';

const config = testPolicy();
// Fresh workers (nothing run yet) have nothing to reclaim, so the batch-size and concurrency tests
// see no recycling.
const fresh: WorkerView[] = [
  { id: 0, tasks: 0, estimatedBytes: 20 * MB, arenaBytes: 20 * MB, state: 'ready' },
  { id: 1, tasks: 0, estimatedBytes: 20 * MB, arenaBytes: 20 * MB, state: 'ready' },
];

/** Feeds readings (fractions of the budget) through the policy, one per 100 ms. */
function run(readings: number[], cfg = config, start: PolicyState = initialState(cfg), workers = fresh, idleMs = 0) {
  let state = start;
  const steps = readings.map((fraction, i) => {
    const decision = decide(state, { now: i * 100, usedBytes: fraction * cfg.budgetBytes, workers, idleMs }, cfg);
    state = decision.state;
    return decision;
  });
  return { state, steps, actions: steps.flatMap((s) => s.actions) };
}

const describe = (a: { type: string; from?: number; to?: number }) => (a.from === undefined ? a.type : `${a.type} ${a.from}→${a.to}`);

test('pressure levels follow the water marks', (t) => {
  t.is(pressureLevel(0.5, config), 'calm');
  t.is(pressureLevel(0.75, config), 'elevated');
  t.is(pressureLevel(0.9, config), 'high');
  t.is(pressureLevel(1, config), 'critical');
});

test('under high pressure the batch size halves first, then concurrency drops, never below the floor', (t) => {
  const { actions, state } = run([0.95, 0.95, 0.95, 0.95, 0.95, 0.95]);
  t.deepEqual(actions.map(describe), ['batch-size 64→32', 'batch-size 32→16', 'batch-size 16→8', 'concurrency 2→1']);
  t.is(state.batchSize, 8);
  t.is(state.concurrency, 1);
  // High but under budget: at the floor nothing waits and nothing is refused.
  t.is(state.pausedSince, null);
  t.false(state.refusing);
  for (const a of actions) t.regex(a.reason, /RSS \d+ MB is 95% of the 1000 MB budget/);
});

test('with every batch checked against the budget before it starts, high pressure shrinks batches but keeps both workers busy', (t) => {
  const cfg = { ...config, gatedDispatch: true };
  const { actions, state } = run([0.95, 0.95, 0.95, 0.95, 0.95, 0.95], cfg);
  t.deepEqual(actions.map(describe), ['batch-size 64→32', 'batch-size 32→16', 'batch-size 16→8']);
  t.is(state.concurrency, 2);
  // Over budget, concurrency still goes to 1.
  t.is(run([1.1, 1.1], cfg).state.concurrency, 1);
});

test('over budget: minimum batch at once, then concurrency 1, then new batches wait, then requests are refused', (t) => {
  const { steps, state } = run([1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1]);
  const byStep = steps.map((s) => s.actions.map(describe));
  t.deepEqual(byStep[0], ['batch-size 64→8']);
  t.deepEqual(byStep[1], ['concurrency 2→1']);
  t.deepEqual(byStep[2], ['pause']);
  // Waiting is bounded: maxPauseMs (1000 ms) after the pause, dispatch resumes and new requests are refused.
  t.true(byStep.slice(3, 12).every((a) => a.length === 0));
  t.deepEqual(byStep[12], ['resume', 'refuse']);
  t.true(state.refusing);
  t.is(state.pausedSince, null);
  t.deepEqual(byStep[13], [], 'refusing is not re-announced');
});

test('relief: the pause ends as soon as usage is back under budget, refusal once it is under the high-water mark', (t) => {
  const paused = run([1.2, 1.2, 1.2]).state;
  t.not(paused.pausedSince, null);
  t.deepEqual(run([0.95], config, paused).actions.map(describe), ['resume']);

  const refusing = run(Array(14).fill(1.2)).state;
  t.true(refusing.refusing);
  const stillHigh = run([0.95], config, refusing);
  t.true(stillHigh.state.refusing, 'hysteresis: still refusing at 95%');
  const relieved = run([0.8], config, refusing);
  t.deepEqual(relieved.actions.map(describe), ['admit']);
  t.false(relieved.state.refusing);
});

test('growth is gradual and in reverse order: concurrency first, then additive batch steps', (t) => {
  const floor = run([1.1, 1.1]).state;
  t.like(floor, { batchSize: 8, concurrency: 1 });
  const { actions, state } = run(Array(30).fill(0.5), config, floor);
  t.deepEqual(actions.map(describe), [
    'concurrency 1→2',
    'batch-size 8→16',
    'batch-size 16→24',
    'batch-size 24→32',
    'batch-size 32→40',
    'batch-size 40→48',
    'batch-size 48→56',
    'batch-size 56→64',
  ]);
  t.like(state, { batchSize: 64, concurrency: 2 });
  // One step per three calm readings, never two at once.
  t.true(run(Array(30).fill(0.5), config, floor).steps.every((s) => s.actions.length <= 1));
});

test('no oscillation: the hold band between the water marks changes nothing and resets the calm count', (t) => {
  const floor = run([1.1, 1.1]).state;
  const { actions } = run([0.5, 0.5, 0.8, 0.5, 0.5, 0.8, 0.5, 0.5, 0.8], config, floor);
  t.deepEqual(actions, []);
  // A shrink then immediate relief does not grow back at once.
  const { actions: after } = run([0.95, 0.5, 0.5]);
  t.deepEqual(after.map(describe), ['batch-size 64→32']);
});

test('with adaptive batching off, limits stay at the maximum but the floor still waits and refuses', (t) => {
  const fixed = { ...config, adaptive: false };
  const { steps, state } = run(Array(14).fill(1.1), fixed);
  t.deepEqual(steps[0]!.actions.map(describe), ['pause']);
  t.true(steps.slice(1).some((s) => s.actions.some((a) => a.type === 'refuse')));
  t.like(state, { batchSize: 64, concurrency: 2, refusing: true });
  t.deepEqual(run(Array(10).fill(0.95), fixed).actions, []);
  t.deepEqual(run(Array(10).fill(0.1), fixed).actions, [], 'nothing to grow');
});

test('recycling by task count', (t) => {
  const cfg = { ...config, recycleAfterTasks: 100 };
  const workers: WorkerView[] = [
    { id: 0, tasks: 99, estimatedBytes: 20 * MB, arenaBytes: 20 * MB, state: 'ready' },
    { id: 1, tasks: 100, estimatedBytes: 20 * MB, arenaBytes: 20 * MB, state: 'ready' },
  ];
  const { actions } = run([0.1], cfg, initialState(cfg), workers);
  t.like(actions, [{ type: 'recycle', worker: 1, cause: 'tasks' }]);
  t.regex(actions[0]!.reason, /served 100 tasks \(limit 100\)/);
  // One at a time: nothing more while a worker is being replaced.
  const busy: WorkerView[] = [workers[1]!, { ...workers[0]!, tasks: 500, state: 'recycling' }];
  t.deepEqual(run([0.1], cfg, initialState(cfg), busy).actions, []);
});

test('recycling by size, at any pressure', (t) => {
  const cfg = { ...config, recycleAboveBytes: 512 * MB };
  const workers: WorkerView[] = [
    { id: 0, tasks: 1, estimatedBytes: 600 * MB, arenaBytes: 600 * MB, state: 'ready' },
    { id: 1, tasks: 1, estimatedBytes: 700 * MB, arenaBytes: 700 * MB, state: 'ready' },
  ];
  t.like(run([0.1], cfg, initialState(cfg), workers).actions, [{ type: 'recycle', worker: 1, cause: 'size' }]);
  t.deepEqual(run([0.1], cfg, initialState(cfg), fresh).actions, []);
});

test('under pressure, a worker whose arena outgrew the current batch size is recycled', (t) => {
  const workers: WorkerView[] = [
    { id: 0, tasks: 1, estimatedBytes: 600 * MB, arenaBytes: 600 * MB, state: 'ready' },
    { id: 1, tasks: 1, estimatedBytes: 100 * MB, arenaBytes: 100 * MB, state: 'ready' },
  ];
  // Calm: a big arena is fine.
  t.deepEqual(run([0.5], config, initialState(config), workers).actions, []);
  // Over budget: batch size goes to 8 (arena need 80 MB), so the 600 MB worker is recycled in the same round.
  const { actions } = run([1.1], config, initialState(config), workers);
  t.deepEqual(actions.map(describe), ['batch-size 64→8', 'recycle']);
  t.like(actions[1], { worker: 0, cause: 'pressure' });
  t.regex(actions[1]!.reason, /600 MB, more than twice the 80 MB batch size 8 needs/);
});

test('idle in the hold band: each worker that ran work is recycled once; not while work runs, not when calm, no churn', (t) => {
  const used: WorkerView[] = [
    { id: 0, tasks: 2, estimatedBytes: 270 * MB, arenaBytes: 270 * MB, state: 'ready' },
    { id: 1, tasks: 1, estimatedBytes: 100 * MB, arenaBytes: 100 * MB, state: 'ready' },
  ];
  // What a fresh-clone CI run met: after pressure, both workers idle with arenas within twice the
  // current batch size's need, RSS at 83% of the budget, so the limits could never grow back.
  const after = { ...initialState(config), batchSize: 32 };
  const { actions } = run([0.83], config, after, used, 2500);
  t.like(actions, [{ type: 'recycle', worker: 0, cause: 'idle' }]);
  t.regex(actions[0]!.reason, /idle for 3 s at elevated usage, worker 0 holds about 270 MB/);
  // Then the other one, once the first is fresh.
  const afterFirst: WorkerView[] = [{ ...used[0]!, tasks: 0, estimatedBytes: 60 * MB }, used[1]!];
  t.like(run([0.8], config, after, afterFirst, 5000).actions, [{ type: 'recycle', worker: 1, cause: 'idle' }]);
  // Both fresh: nothing more to reclaim, so no churn however long the usage stays there.
  t.deepEqual(run([0.8, 0.8, 0.8], config, after, fresh, 60_000).actions, []);
  // Work running, or only a moment's gap between batches: the arenas are in use.
  t.deepEqual(run([0.8], config, after, used, 0).actions, []);
  t.deepEqual(run([0.8], config, after, used, 1999).actions, []);
  // Calm: nothing to reclaim. Turned off: never.
  t.deepEqual(run([0.5], config, after, used, 60_000).actions, []);
  t.deepEqual(run([0.8], { ...config, reclaimAfterIdleMs: 0 }, after, used, 60_000).actions, []);
});

test('no recycle storm: a pressure recycle must promise 32 MB, waits out its backoff, and one that freed nothing doubles the wait', (t) => {
  const cfg = { ...config, recycleMinIntervalMs: 10_000, recycleMaxBackoffMs: 40_000 };
  const big: WorkerView[] = [
    { id: 0, tasks: 1, estimatedBytes: 300 * MB, arenaBytes: 290 * MB, state: 'ready' },
    { id: 1, tasks: 1, estimatedBytes: 40 * MB, arenaBytes: 30 * MB, state: 'ready' },
  ];
  const atFloor = { ...initialState(cfg), batchSize: 8, concurrency: 1 };
  const step = (state: PolicyState, now: number, used: number, workers = big) => decide(state, { now, usedBytes: used * cfg.budgetBytes, workers, idleMs: 0 }, cfg);

  // A gain under 32 MB (arena 100 MB, the floor needs 80 MB): not worth a model reload.
  const small: WorkerView[] = [{ id: 0, tasks: 1, estimatedBytes: 110 * MB, arenaBytes: 100 * MB, state: 'ready' }];
  t.deepEqual(step(atFloor, 0, 1.1, small).actions.filter((a) => a.type === 'recycle'), []);

  // The first pressure recycle goes ahead...
  let d = step(atFloor, 0, 1.1);
  t.like(d.actions.find((a) => a.type === 'recycle'), { worker: 0, cause: 'pressure' });
  // ...and once it is over, it freed nothing (usage still 110%): the next one waits 20 s, not 10.
  d = step(d.state, 500, 1.1, big.map((w) => ({ ...w, state: 'ready' as const })));
  t.like(d.actions.find((a) => a.type === 'recycle-result'), { helped: false, backoffMs: 20_000 });
  t.falsy(d.actions.find((a) => a.type === 'recycle'), 'no second recycle in the same breath');
  let state = d.state;
  let recycles = 0;
  // Ten minutes of pressure, one reading a second, the arena never shrinking: recycles back off to 40 s apart.
  for (let now = 1000; now < 600_000; now += 1000) {
    d = step(state, now, 1.1);
    state = d.state;
    recycles += d.actions.filter((a) => a.type === 'recycle').length;
  }
  t.true(recycles <= 16, `${recycles} recycles in ten minutes (887 before this rule)`);
  t.is(state.recycleBackoffMs, 40_000);

  // One that helped brings the wait back to its minimum.
  const helped = step({ ...state, recycleCheck: { beforeBytes: 1.1 * cfg.budgetBytes, expectedBytes: 200 * MB, at: 0 } }, 700_000, 0.8);
  t.like(helped.actions.find((a) => a.type === 'recycle-result'), { helped: true, backoffMs: 10_000 });
});
