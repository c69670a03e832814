import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { projectRoot } from '../src/model/files.js';
import { resolveBudget } from '../src/supervisor/budget.js';
import { locateMemoryCgroup, parseMountinfo, parseProcCgroup } from '../src/supervisor/cgroup-locate.js';
import { cgroupAtRoot, NO_CGROUP, parseLimit, readCgroupMemory } from '../src/supervisor/cgroup.js';

const fixture = (name: string) => path.join(projectRoot(), 'test', 'fixtures', 'cgroup', name);
const GiB = 1024 ** 3;
const atRoot = async (name: string) => readCgroupMemory(await cgroupAtRoot(fixture(name)));

// --- EMBEDDING_CGROUP_ROOT: one directory, read as is ---

test('EMBEDDING_CGROUP_ROOT, cgroup v2: memory.max and memory.current', async (t) => {
  t.like(await atRoot('v2-limited'), { version: 2, limitBytes: 536870912, usageBytes: 123456789 });
  t.like(await atRoot('v2-limited'), { limitFile: path.join(fixture('v2-limited'), 'memory.max') });
  t.like(await atRoot('v2-unlimited'), { version: 2, limitBytes: null, limitFile: null, usageBytes: 4096000, workingSetBytes: null });
});

test('EMBEDDING_CGROUP_ROOT, cgroup v1: memory/memory.limit_in_bytes and usage_in_bytes; the huge sentinel means unlimited', async (t) => {
  t.like(await atRoot('v1-limited'), { version: 1, limitBytes: GiB, usageBytes: 268435456 });
  t.like(await atRoot('v1-unlimited'), { version: 1, limitBytes: null, usageBytes: 3284467712 });
});

test('no cgroup files: nothing known, no error', async (t) => {
  t.deepEqual(await atRoot('none'), NO_CGROUP);
  t.deepEqual(await atRoot('does-not-exist'), NO_CGROUP);
  t.deepEqual(await readCgroupMemory(undefined), NO_CGROUP);
});

test('limit parsing', (t) => {
  t.is(parseLimit('max\n'), null);
  t.is(parseLimit('9223372036854771712'), null);
  t.is(parseLimit(' 1048576 \n'), 1048576);
  t.throws(() => parseLimit('lots'));
});

// --- finding the process's own cgroup: /proc/self/cgroup and /proc/self/mountinfo ---

const V1_MOUNTS = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

const SYSTEMD_V2 = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';
const NAMESPACED_V2 = '1203 1201 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate';
const BIND_MOUNTED_V2 = '900 800 0:26 /kubepods/pod1/ctr /sys/fs/cgroup ro,relatime - cgroup2 cgroup2 rw';

/** [what, /proc/self/cgroup, /proc/self/mountinfo, the process's cgroup directory and its chain up to the mount]. */
const LAYOUTS: Array<[string, string, string, { version: 1 | 2; chain: string[] }]> = [
  [
    'v1 (hybrid host): the memory controller line under its v1 mount, ancestors up to the mount',
    '9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/\n',
    V1_MOUNTS,
    { version: 1, chain: ['/sys/fs/cgroup/memory/process_api/abc', '/sys/fs/cgroup/memory/process_api', '/sys/fs/cgroup/memory'] },
  ],
  [
    'v2 under systemd: the 0:: path under the cgroup2 mount, the unit and every slice above it',
    '0::/system.slice/doctown-embed.service\n',
    SYSTEMD_V2,
    { version: 2, chain: ['/sys/fs/cgroup/system.slice/doctown-embed.service', '/sys/fs/cgroup/system.slice', '/sys/fs/cgroup'] },
  ],
  ['v2 in a container with a cgroup namespace: the path is / and the container cgroup is the mount itself', '0::/\n', NAMESPACED_V2, { version: 2, chain: ['/sys/fs/cgroup'] }],
  ['v2 without a cgroup namespace: the host path under a bind-mounted root is the mount itself', '0::/kubepods/pod1/ctr\n', BIND_MOUNTED_V2, { version: 2, chain: ['/sys/fs/cgroup'] }],
  ['v2 without a cgroup namespace: a sub-cgroup below that root', '0::/kubepods/pod1/ctr/sub\n', BIND_MOUNTED_V2, { version: 2, chain: ['/sys/fs/cgroup/sub', '/sys/fs/cgroup'] }],
  ['a process placed above its namespace root (/..) resolves to the deepest directory it can see', '0::/../../elsewhere\n', NAMESPACED_V2, { version: 2, chain: ['/sys/fs/cgroup'] }],
];

for (const [what, procCgroup, mountinfo, expected] of LAYOUTS) {
  test(what, (t) => {
    t.deepEqual(locateMemoryCgroup(procCgroup, mountinfo), { version: expected.version, dir: expected.chain[0], chain: expected.chain });
  });
}

test('a cgroup filesystem mounted elsewhere, with an escaped space in its path', (t) => {
  const mounts = '50 23 0:40 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw';
  t.deepEqual(parseMountinfo(mounts)[0], { mountPoint: '/mnt/my cgroups', root: '/', version: 2, controllers: [] });
  t.like(locateMemoryCgroup('0::/a\n', mounts), { dir: '/mnt/my cgroups/a' });
});

test('no memory cgroup to be found: undefined, never an error', (t) => {
  t.is(locateMemoryCgroup('', ''), undefined);
  t.is(locateMemoryCgroup('4:memory:/x\n', '30 23 0:26 / /proc rw - proc proc rw'), undefined);
  t.deepEqual(parseProcCgroup('garbage\n12:cpu,memory:/a\n0::/b'), { v1Memory: '/a', v2: '/b' });
});

// --- the tightest limit over the chain, on a real directory tree ---

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cgroup-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}
const chainOf = (root: string, ...dirs: string[]) => dirs.map((d) => path.join(root, d));

test('v2: the tightest of memory.max and memory.high over the cgroup and its ancestors binds, and says which file', async (t) => {
  const root = tree({
    'memory.max': 'max\n',
    'pod/memory.max': '1073741824\n',
    'pod/memory.current': '600000000\n',
    'pod/memory.stat': 'anon 400000000\ninactive_file 100000000\n',
    'pod/ctr/memory.max': '2147483648\n',
    'pod/ctr/memory.high': 'max\n',
    'pod/ctr/memory.current': '500000000\n',
  });
  const reading = await readCgroupMemory({ version: 2, dir: path.join(root, 'pod/ctr'), chain: chainOf(root, 'pod/ctr', 'pod', '.') });
  t.like(reading, { version: 2, limitBytes: GiB, limitFile: path.join(root, 'pod/memory.max'), usageBytes: 500000000 });
  t.is(reading.workingSetBytes, 500000000, 'the binding cgroup’s charge less its inactive file pages');
  writeFileSync(path.join(root, 'pod/ctr/memory.high'), '805306368\n');
  t.like(await readCgroupMemory({ version: 2, dir: path.join(root, 'pod/ctr'), chain: chainOf(root, 'pod/ctr', 'pod', '.') }), {
    limitBytes: 805306368,
    limitFile: path.join(root, 'pod/ctr/memory.high'),
  });
});

test('v1: memory.limit_in_bytes and memory.memsw.limit_in_bytes over the chain; total_inactive_file off the working set', async (t) => {
  const root = tree({
    'memory.limit_in_bytes': '9223372036854771712\n',
    'a/memory.limit_in_bytes': '9223372036854771712\n',
    'a/memory.memsw.limit_in_bytes': '3221225472\n',
    'a/b/memory.limit_in_bytes': '1073741824\n',
    'a/b/memory.usage_in_bytes': '700000000\n',
    'a/b/memory.stat': 'cache 300000000\nrss 400000000\ntotal_inactive_file 250000000\n',
  });
  const reading = await readCgroupMemory({ version: 1, dir: path.join(root, 'a/b'), chain: chainOf(root, 'a/b', 'a', '.') });
  t.like(reading, { version: 1, limitBytes: GiB, limitFile: path.join(root, 'a/b/memory.limit_in_bytes'), usageBytes: 700000000, workingSetBytes: 450000000 });
});

// --- the budget ---

test('the budget is a percentage of the cgroup limit when it is below the machine, else of the machine', async (t) => {
  const host = 16 * GiB;
  const inContainer = resolveBudget({ percent: 70, absoluteMb: undefined, totalBytes: host, cgroup: await atRoot('v1-limited') });
  t.like(inContainer, { budgetBytes: Math.floor(GiB * 0.7), limitBytes: GiB, source: 'cgroup' });
  t.regex(inContainer.limitFile!, /memory\.limit_in_bytes$/);
  const unlimited = resolveBudget({ percent: 50, absoluteMb: undefined, totalBytes: host, cgroup: await atRoot('v2-unlimited') });
  t.deepEqual(unlimited, { budgetBytes: 8 * GiB, limitBytes: host, source: 'system', limitFile: null });
  const absolute = resolveBudget({ percent: 70, absoluteMb: 300, totalBytes: host, cgroup: await atRoot('v2-limited') });
  t.like(absolute, { budgetBytes: 300 * 1024 * 1024, limitBytes: 536870912, source: 'EMBEDDING_MAX_MEMORY_MB' });
});
