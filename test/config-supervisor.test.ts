import test from 'ava';
import { ConfigError, parseConfig } from '../src/config.js';

test('memory supervisor defaults', (t) => {
  t.like(parseConfig({}, 2), {
    maxMemoryPercent: 70,
    maxMemoryMb: undefined,
    adaptiveBatching: true,
    memorySampleMs: 500,
    maxPauseMs: 10_000,
    workerMaxTasks: 2000,
    workerMaxMb: 1024,
    cgroupRoot: undefined,
  });
});

test('memory supervisor settings are read and validated', (t) => {
  t.like(
    parseConfig(
      {
        EMBEDDING_MAX_MEMORY_PERCENT: '50',
        EMBEDDING_MAX_MEMORY_MB: '2048',
        EMBEDDING_ADAPTIVE_BATCHING: 'false',
        EMBEDDING_MEMORY_SAMPLE_MS: '100',
        EMBEDDING_MAX_PAUSE_MS: '0',
        EMBEDDING_WORKER_MAX_TASKS: '0',
        EMBEDDING_WORKER_MAX_MB: '0',
        EMBEDDING_CGROUP_ROOT: '/tmp/cg',
      },
      2,
    ),
    { maxMemoryPercent: 50, maxMemoryMb: 2048, adaptiveBatching: false, memorySampleMs: 100, maxPauseMs: 0, workerMaxTasks: 0, workerMaxMb: 0, cgroupRoot: '/tmp/cg' },
  );
  for (const value of ['TRUE', '1', 'yes', 'on']) t.true(parseConfig({ EMBEDDING_ADAPTIVE_BATCHING: value }, 2).adaptiveBatching);
  for (const value of ['False', '0', 'no', 'off']) t.false(parseConfig({ EMBEDDING_ADAPTIVE_BATCHING: value }, 2).adaptiveBatching);
});

test('bad memory settings name the variable and the rule', (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ EMBEDDING_MAX_MEMORY_PERCENT: '0' }, /EMBEDDING_MAX_MEMORY_PERCENT="0": must be at least 1/],
    [{ EMBEDDING_MAX_MEMORY_PERCENT: '101' }, /EMBEDDING_MAX_MEMORY_PERCENT="101": must be at most 100/],
    [{ EMBEDDING_MAX_MEMORY_MB: '10' }, /EMBEDDING_MAX_MEMORY_MB="10": must be at least 64/],
    [{ EMBEDDING_ADAPTIVE_BATCHING: 'maybe' }, /EMBEDDING_ADAPTIVE_BATCHING="maybe": must be true or false/],
    [{ EMBEDDING_MEMORY_SAMPLE_MS: '5' }, /EMBEDDING_MEMORY_SAMPLE_MS="5": must be at least 50/],
    [{ EMBEDDING_WORKER_MAX_TASKS: '-1' }, /EMBEDDING_WORKER_MAX_TASKS="-1": must be an integer/],
  ];
  for (const [env, message] of cases) {
    const error = t.throws(() => parseConfig(env, 2), { instanceOf: ConfigError });
    t.regex(error!.message, message);
  }
});
