import test from 'ava';
import path from 'node:path';
import { projectRoot } from '../src/model/files.js';
import { resolveBudget } from '../src/supervisor/budget.js';
import { parseLimit, readCgroupMemory } from '../src/supervisor/cgroup.js';

const fixture = (name: string) => path.join(projectRoot(), 'test', 'fixtures', 'cgroup', name);
const GiB = 1024 ** 3;

test('cgroup v2: memory.max and memory.current', async (t) => {
  t.deepEqual(await readCgroupMemory(fixture('v2-limited')), { version: 2, limitBytes: 536870912, usageBytes: 123456789 });
  t.deepEqual(await readCgroupMemory(fixture('v2-unlimited')), { version: 2, limitBytes: null, usageBytes: 4096000 });
});

test('cgroup v1: memory/memory.limit_in_bytes and usage_in_bytes; the huge sentinel means unlimited', async (t) => {
  t.deepEqual(await readCgroupMemory(fixture('v1-limited')), { version: 1, limitBytes: GiB, usageBytes: 268435456 });
  t.deepEqual(await readCgroupMemory(fixture('v1-unlimited')), { version: 1, limitBytes: null, usageBytes: 3284467712 });
});

test('no cgroup files: nothing known, no error', async (t) => {
  t.deepEqual(await readCgroupMemory(fixture('none')), { version: null, limitBytes: null, usageBytes: null });
  t.deepEqual(await readCgroupMemory(fixture('does-not-exist')), { version: null, limitBytes: null, usageBytes: null });
});

test('limit parsing', (t) => {
  t.is(parseLimit('max\n'), null);
  t.is(parseLimit('9223372036854771712'), null);
  t.is(parseLimit(' 1048576 \n'), 1048576);
  t.throws(() => parseLimit('lots'));
});

test('the budget is a percentage of the container limit when it is below the machine, else of the machine', async (t) => {
  const host = 16 * GiB;
  const inContainer = resolveBudget({ percent: 70, absoluteMb: undefined, totalBytes: host, cgroup: await readCgroupMemory(fixture('v1-limited')) });
  t.deepEqual(inContainer, { budgetBytes: Math.floor(GiB * 0.7), limitBytes: GiB, source: 'cgroup' });
  const unlimited = resolveBudget({ percent: 50, absoluteMb: undefined, totalBytes: host, cgroup: await readCgroupMemory(fixture('v2-unlimited')) });
  t.deepEqual(unlimited, { budgetBytes: 8 * GiB, limitBytes: host, source: 'system' });
  const absolute = resolveBudget({ percent: 70, absoluteMb: 300, totalBytes: host, cgroup: await readCgroupMemory(fixture('v2-limited')) });
  t.deepEqual(absolute, { budgetBytes: 300 * 1024 * 1024, limitBytes: 536870912, source: 'EMBEDDING_MAX_MEMORY_MB' });
});
