/**
 * Starts a process as if on its own machine: in a simulated host's network namespace, optionally pinned to cores
 * (`taskset`; Node's os.availableParallelism() then counts only those) and inside its own memory cgroup (the memory
 * supervisor reads that limit as a container's). The chain `sh (joins the cgroup) → nsenter → taskset → argv` execs at
 * every step, so the child's pid is the program's own and SIGKILL reaches it directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { createChildCgroup, type ChildCgroup } from '../../harness/cgroup.js';
import { onCleanup } from './cleanup.js';
import type { SimulatedHost } from './network.js';

export interface Placement {
  host: SimulatedHost;
  /** taskset's list (`0`, `2-3`); undefined = unpinned. */
  cpus?: string;
  cgroup?: ChildCgroup;
}

export interface PlacedProcess {
  child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
}

export function placedArgv(placement: Placement, argv: string[]): string[] {
  const pinned = placement.cpus === undefined ? argv : ['taskset', '-c', placement.cpus, ...argv];
  const inHost = placement.host.wrap(pinned);
  return placement.cgroup ? placement.cgroup.wrap(inHost) : inHost;
}

/** Spawns `argv` placed; stdout and stderr go to `logFile`. Killed with SIGKILL at cleanup if still running. */
export function spawnPlaced(placement: Placement, argv: string[], options: { env?: NodeJS.ProcessEnv; logFile: string; cwd?: string }): PlacedProcess {
  const [command, ...args] = placedArgv(placement, argv);
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(command!, args, { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const unregister = onCleanup(`killing ${argv.join(' ').slice(0, 60)}`, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      unregister();
      log.end();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return { child, exited };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes `scale-proof-<pid>-*` cgroups beside `dir` left by a run that was SIGKILLed (its pid no longer runs). */
function removeStaleCgroups(dir: string): void {
  const parent = path.dirname(dir);
  for (const entry of readdirSync(parent)) {
    const match = /^scale-proof-(\d+)-/.exec(entry);
    if (!match || Number(match[1]) === process.pid || pidAlive(Number(match[1]))) continue;
    const stale = path.join(parent, entry);
    try {
      for (const pid of readFileSync(path.join(stale, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      rmdirSync(stale);
    } catch {
      // still emptying: the next run tries again
    }
  }
}

/** A fresh memory cgroup `scale-proof-<pid>-<name>` limited to `mib`, removed at cleanup; throws with the reason when none can be made. */
export async function limitedCgroup(name: string, mib: number): Promise<ChildCgroup> {
  const cgroup = await createChildCgroup(`scale-proof-${process.pid}-${name}`);
  if (typeof cgroup === 'string') throw new Error(cgroup);
  removeStaleCgroups(cgroup.dir);
  onCleanup(`removing cgroup ${cgroup.dir}`, () => cgroup.remove());
  cgroup.setLimit(mib * 2 ** 20);
  return cgroup;
}
