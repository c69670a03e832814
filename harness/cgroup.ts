/**
 * A real kernel memory limit for tests and stress runs: a child memory cgroup under the one this
 * process runs in (cgroup v1 or v2), its limit set and changed, the kernel's own figures read back.
 * Needs root and a writable hierarchy (these machines and CI have both); `createChildCgroup` says
 * plainly why when it cannot.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findOwnCgroup } from '../src/supervisor/cgroup.js';

export interface ChildCgroup {
  version: 1 | 2;
  dir: string;
  /** Sets the hard limit (v1 memory.limit_in_bytes, v2 memory.max). */
  setLimit(bytes: number): void;
  /** The kernel's figures: peak charge, how often the limit was hit, OOM kills. */
  stats(): { peakBytes: number | null; failcnt: number | null; oomKills: number | null };
  /** The command that starts `argv` inside this cgroup (the shell moves itself in, then execs). */
  wrap(argv: string[]): string[];
  /** Kills whatever is left inside, then removes the cgroup. */
  remove(): void;
}

const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);
const field = (text: string | undefined, name: string) => {
  const match = text === undefined ? null : new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
};

/** A fresh child memory cgroup, or a sentence saying why one cannot be made here. */
export async function createChildCgroup(name: string): Promise<ChildCgroup | string> {
  const own = await findOwnCgroup();
  if (!own) return 'no memory cgroup is visible to this process (no cgroup filesystem mounted, or not Linux)';
  const dir = path.join(own.dir, name);
  try {
    if (own.version === 2) {
      // A v2 child gets the memory controller only if its parent delegates it.
      const controllers = read(path.join(own.dir, 'cgroup.subtree_control')) ?? '';
      if (!controllers.split(/\s+/).includes('memory')) writeFileSync(path.join(own.dir, 'cgroup.subtree_control'), '+memory');
    }
    mkdirSync(dir);
  } catch (error) {
    return `cannot create a memory cgroup under ${own.dir}: ${(error as Error).message} (needs root and a writable cgroup hierarchy)`;
  }
  const limitFile = own.version === 1 ? 'memory.limit_in_bytes' : 'memory.max';
  return {
    version: own.version,
    dir,
    setLimit: (bytes) => writeFileSync(path.join(dir, limitFile), String(bytes)),
    stats() {
      if (own.version === 1) {
        const number = (file: string) => (read(path.join(dir, file)) === undefined ? null : Number(read(path.join(dir, file))));
        return { peakBytes: number('memory.max_usage_in_bytes'), failcnt: number('memory.failcnt'), oomKills: field(read(path.join(dir, 'memory.oom_control')), 'oom_kill') };
      }
      const peak = read(path.join(dir, 'memory.peak'));
      const events = read(path.join(dir, 'memory.events'));
      return { peakBytes: peak === undefined ? null : Number(peak), failcnt: field(events, 'max'), oomKills: field(events, 'oom_kill') };
    },
    wrap: (argv) => ['/bin/sh', '-c', `echo $$ > '${path.join(dir, 'cgroup.procs')}' && exec "$@"`, 'in-cgroup', ...argv],
    remove() {
      for (const pid of (read(path.join(dir, 'cgroup.procs')) ?? '').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          rmdirSync(dir);
          return;
        } catch {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // the killed processes take a moment to leave
        }
      }
    },
  };
}
