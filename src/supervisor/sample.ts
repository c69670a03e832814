import os from 'node:os';
import pidusage from 'pidusage';
import { readCgroupMemory, type CgroupMemory } from './cgroup.js';

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

/** The real sampler: pidusage for RSS and CPU, `os` for the machine, the cgroup files for the container. */
export function createSystemSampler(options: { cgroupRoot: string; pid?: number }): Sampler {
  const pid = options.pid ?? process.pid;
  return async () => {
    const [usage, cgroup] = await Promise.all([
      pidusage(pid).catch(() => ({ memory: process.memoryUsage.rss(), cpu: 0 })),
      readCgroupMemory(options.cgroupRoot),
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
