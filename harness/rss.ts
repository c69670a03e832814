import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Resident memory of a process from /proc (Linux): the figure the memory budget is about, for a
 * child server or, with `process.pid`, the test process itself.
 */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Samples a process's RSS until stopped; the peak is what the budget is held to. */
export function watchRss(pid: number, everyMs = 100): { stop(): { peak: number; samples: number[] } } {
  const samples: number[] = [];
  const timer = setInterval(() => {
    try {
      samples.push(rssBytes(pid));
    } catch {
      // the process is gone; the run will report it
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return { peak: Math.max(0, ...samples), samples };
    },
  };
}

let collect: (() => void) | undefined;

/**
 * The JavaScript heap in use plus the memory of live Buffers (request bodies are Buffers), after a
 * full garbage collection: for an in-process service, what its traffic left behind, without the
 * freed pages RSS keeps. `gc` is reached without --expose-gc
 * on the command line, so ava's worker processes need no special flags.
 */
export function settledHeapBytes(): number {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
  collect();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}
