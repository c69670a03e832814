import type { CgroupMemory } from './cgroup.js';

export interface MemoryBudget {
  /** Bytes the process may use (compared with its RSS). */
  budgetBytes: number;
  /** The memory the percentage applies to: the cgroup limit when lower than the machine's RAM. */
  limitBytes: number;
  /** Where the budget came from, for /health and the start-up log. */
  source: 'EMBEDDING_MAX_MEMORY_MB' | 'cgroup' | 'system';
  /** The cgroup file whose limit `limitBytes` is, when it is one. */
  limitFile: string | null;
}

/**
 * Budget = `percent` of the effective limit, which is the smaller of the machine's RAM and the
 * tightest cgroup limit over the process's cgroup and its ancestors, so that inside a container, a
 * systemd unit or a pod "70%" means 70% of what the kernel will allow. `absoluteMb`
 * (EMBEDDING_MAX_MEMORY_MB) overrides the percentage.
 */
export function resolveBudget(options: {
  percent: number;
  absoluteMb: number | undefined;
  totalBytes: number;
  cgroup: CgroupMemory;
}): MemoryBudget {
  const cgroupLimit = options.cgroup.limitBytes;
  const fromCgroup = cgroupLimit !== null && cgroupLimit < options.totalBytes;
  const limitBytes = fromCgroup ? cgroupLimit : options.totalBytes;
  const limitFile = fromCgroup ? options.cgroup.limitFile : null;
  if (options.absoluteMb !== undefined) {
    return { budgetBytes: options.absoluteMb * 1024 * 1024, limitBytes, source: 'EMBEDDING_MAX_MEMORY_MB', limitFile };
  }
  return {
    budgetBytes: Math.floor((limitBytes * options.percent) / 100),
    limitBytes,
    source: fromCgroup ? 'cgroup' : 'system',
    limitFile,
  };
}
