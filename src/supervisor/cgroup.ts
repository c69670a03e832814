import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** What the memory cgroup says about this process's container, if anything. */
export interface CgroupMemory {
  version: 1 | 2 | null;
  /** Hard limit in bytes; null when unlimited or no memory cgroup is visible. */
  limitBytes: number | null;
  /** Current charge of the cgroup in bytes (includes page cache); null when unknown. */
  usageBytes: number | null;
}

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

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Reads the memory limit and usage of the cgroup mounted at `root` (default `/sys/fs/cgroup`, which
 * inside a container is the container's own cgroup). cgroup v2 keeps `memory.max` and
 * `memory.current` at the root of the unified hierarchy; v1 keeps `memory.limit_in_bytes` and
 * `memory.usage_in_bytes` under `memory/`. v2 wins when both are present. Unreadable or absent
 * files mean "no limit known", never an error: the budget then falls back to the machine's memory.
 */
export async function readCgroupMemory(root = '/sys/fs/cgroup'): Promise<CgroupMemory> {
  const v2Max = await readOptional(path.join(root, 'memory.max'));
  if (v2Max !== undefined) {
    const current = await readOptional(path.join(root, 'memory.current'));
    return { version: 2, limitBytes: safeLimit(v2Max), usageBytes: current === undefined ? null : parseUsage(current) };
  }
  for (const dir of [path.join(root, 'memory'), root]) {
    const v1Limit = await readOptional(path.join(dir, 'memory.limit_in_bytes'));
    if (v1Limit !== undefined) {
      const usage = await readOptional(path.join(dir, 'memory.usage_in_bytes'));
      return { version: 1, limitBytes: safeLimit(v1Limit), usageBytes: usage === undefined ? null : parseUsage(usage) };
    }
  }
  return { version: null, limitBytes: null, usageBytes: null };
}

function safeLimit(text: string): number | null {
  try {
    return parseLimit(text);
  } catch {
    return null;
  }
}
