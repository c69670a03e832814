import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { locateMemoryCgroup, type CgroupLocation } from './cgroup-locate.js';

/** What the memory cgroup (this process's own and its ancestors) says, if anything. */
export interface CgroupMemory {
  version: 1 | 2 | null;
  /** The cgroup directory read: the process's own, or EMBEDDING_CGROUP_ROOT. */
  path: string | null;
  /**
   * The tightest limit of that cgroup and its ancestors, in bytes; null when none is set or visible.
   * v2 counts `memory.high` beside `memory.max`: above it the kernel throttles and reclaims hard, a
   * ceiling worth staying under. v1 counts `memory.memsw.limit_in_bytes` (memory + swap) where present.
   */
  limitBytes: number | null;
  /** The file that set `limitBytes` (e.g. `/sys/fs/cgroup/system.slice/x.service/memory.max`). */
  limitFile: string | null;
  /** The process's own cgroup's charge (includes page cache); null when unknown. */
  usageBytes: number | null;
  /**
   * The charge of the cgroup whose limit binds, less its inactive file pages (what kubelet and
   * `docker stats` call the working set): what the kernel cannot drop for free before it must kill.
   * Null when no limit binds.
   */
  workingSetBytes: number | null;
}

export const NO_CGROUP: CgroupMemory = { version: null, path: null, limitBytes: null, limitFile: null, usageBytes: null, workingSetBytes: null };

/**
 * cgroup v1 reports "no limit" as a huge page-aligned number (9223372036854771712 on x86-64), not
 * "max"; anything at or above 2^60 bytes (an exabyte) is treated as unlimited.
 */
const V1_UNLIMITED = 2 ** 60;

/** `memory.max` / `memory.limit_in_bytes` text → bytes, or null for "max" / the v1 sentinel. */
export function parseLimit(text: string): number | null {
  const value = text.trim();
  if (value === '' || value === 'max') return null;
  if (!/^\d+$/.test(value)) throw new Error(`not a byte count: ${JSON.stringify(value)}`);
  const bytes = Number(value);
  return bytes >= V1_UNLIMITED ? null : bytes;
}

export function parseUsage(text: string): number | null {
  const value = text.trim();
  return /^\d+$/.test(value) ? Number(value) : null;
}

/** One counter of `memory.stat` (`inactive_file 1234`), or null. */
export function statField(stat: string, name: string): number | null {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(stat);
  return match ? Number(match[1]) : null;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

function safeLimit(text: string | undefined): number | null {
  if (text === undefined) return null;
  try {
    return parseLimit(text);
  } catch {
    return null;
  }
}

/** The files each version keeps its figures in. */
const FILES = {
  1: { limits: ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes'], usage: 'memory.usage_in_bytes', inactive: 'total_inactive_file' },
  2: { limits: ['memory.max', 'memory.high'], usage: 'memory.current', inactive: 'inactive_file' },
} as const;

/**
 * This process's memory cgroup, from /proc/self/cgroup and /proc/self/mountinfo; undefined where
 * there is none to see (not Linux, no cgroup filesystem mounted).
 */
export async function findOwnCgroup(proc = '/proc/self'): Promise<CgroupLocation | undefined> {
  const [cgroup, mountinfo] = await Promise.all([readOptional(path.join(proc, 'cgroup')), readOptional(path.join(proc, 'mountinfo'))]);
  return cgroup === undefined || mountinfo === undefined ? undefined : locateMemoryCgroup(cgroup, mountinfo);
}

/**
 * EMBEDDING_CGROUP_ROOT: one directory read as is, without ancestors (inside a container it is the
 * container's own cgroup). v2 keeps `memory.max` there; v1 `memory.limit_in_bytes`, directly or under `memory/`.
 */
export async function cgroupAtRoot(root: string): Promise<CgroupLocation | undefined> {
  if ((await readOptional(path.join(root, 'memory.max'))) !== undefined) return { version: 2, dir: root, chain: [root] };
  for (const dir of [path.join(root, 'memory'), root]) {
    if ((await readOptional(path.join(dir, 'memory.limit_in_bytes'))) !== undefined) return { version: 1, dir, chain: [dir] };
  }
  return undefined;
}

/**
 * Reads the limits of `location`'s cgroup and every ancestor (the tightest binds: a pod's limit above
 * its container's, a systemd slice above its unit), its own usage, and the working set of the cgroup
 * whose limit binds. Read at every sample, so a limit changed at run time is followed. Unreadable or
 * absent files mean "not known", never an error: the budget then falls back to the machine's memory.
 */
export async function readCgroupMemory(location: CgroupLocation | undefined): Promise<CgroupMemory> {
  if (!location) return NO_CGROUP;
  const files = FILES[location.version];
  let limitBytes: number | null = null;
  let limitFile: string | null = null;
  for (const dir of location.chain) {
    for (const name of files.limits) {
      const file = path.join(dir, name);
      const limit = safeLimit(await readOptional(file));
      if (limit !== null && (limitBytes === null || limit < limitBytes)) [limitBytes, limitFile] = [limit, file];
    }
  }
  const usage = await readOptional(path.join(location.dir, files.usage));
  // Without a limit nothing is enforced, and an unlimited cgroup's charge can hold a whole machine's
  // other processes: only the cgroup whose limit binds has a working set worth holding against the budget.
  const bindingDir = limitFile ? path.dirname(limitFile) : undefined;
  const [bindingUsage, bindingStat] = bindingDir
    ? await Promise.all([readOptional(path.join(bindingDir, files.usage)), readOptional(path.join(bindingDir, 'memory.stat'))])
    : [undefined, undefined];
  const charge = bindingUsage === undefined ? null : parseUsage(bindingUsage);
  const inactive = bindingStat === undefined ? null : statField(bindingStat, files.inactive);
  return {
    version: location.version,
    path: location.dir,
    limitBytes,
    limitFile,
    usageBytes: usage === undefined ? null : parseUsage(usage),
    workingSetBytes: charge === null ? null : Math.max(0, charge - (inactive ?? 0)),
  };
}
