import os from 'node:os';
import pidusage from 'pidusage';
import { readCgroupMemory, type CgroupMemory } from './cgroup.js';
import type { CgroupLocation } from './cgroup-locate.js';

/** One reading of everything the supervisor decides on. */
export interface MemorySample {
  at: number;
  /** Resident set of this process: the main thread and every worker thread (they share the process). */
  rssBytes: number;
  /** CPU use of the process in percent of one core (200 = two cores busy). */
  cpuPercent: number;
  systemTotalBytes: number;
  systemFreeBytes: number;
  cgroup: CgroupMemory;
}

export type Sampler = () => Promise<MemorySample>;

/** The real sampler: pidusage for RSS and CPU, `os` for the machine, the files of the process's memory cgroup. */
export function createSystemSampler(options: { cgroup: CgroupLocation | undefined; pid?: number }): Sampler {
  const pid = options.pid ?? process.pid;
  return async () => {
    const [usage, cgroup] = await Promise.all([
      pidusage(pid).catch(() => ({ memory: process.memoryUsage.rss(), cpu: 0 })),
      readCgroupMemory(options.cgroup),
    ]);
    return {
      at: Date.now(),
      rssBytes: usage.memory,
      cpuPercent: usage.cpu,
      systemTotalBytes: os.totalmem(),
      systemFreeBytes: os.freemem(),
      cgroup,
    };
  };
}

/** Releases pidusage's per-pid history (it keeps one entry per pid it has seen). */
export function clearSamplerState(): void {
  pidusage.clear();
}

/**
 * The memory the supervisor holds against the budget: the process's RSS, or the working set of the
 * cgroup whose limit binds when that is larger. RSS is what this process can shrink; the working set
 * (the cgroup's charge less its inactive file pages) is what the kernel compares with the limit
 * before it kills, and it also counts what RSS cannot see: other processes under the same limit (a
 * pod's sidecars, a systemd slice's other units) and kernel memory. Inactive page cache is left out
 * because the kernel drops it for free; counting it would throttle the service over cache.
 */
export function memoryInUse(sample: MemorySample): number {
  return Math.max(sample.rssBytes, sample.cgroup.workingSetBytes ?? 0);
}
