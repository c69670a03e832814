/** bench/run.ts's command line: the quick and full parameter sets and the flags that pick between them. */
import path from 'node:path';
import { projectRoot } from '../../src/model/files.js';
import type { BenchParams } from '../report/results.js';

export interface RunOptions {
  quick: boolean;
  peers: boolean;
  write: boolean;
  render: boolean;
  /** `--systems a,b`: the systems run side by side with the service (measure/systems.ts); all of them by default. */
  systems: string[] | undefined;
  out: string;
  /** The command line as BENCHMARKS.md quotes it. */
  command: string;
  params: BenchParams;
}

const QUICK: BenchParams = {
  size: 60,
  reps: 1,
  shapeSeconds: 0.2,
  shapes: [[16, 64], [8, 256]],
  layouts: [[1, 2], [2, 1]],
  concurrencies: [4],
  latencyIterations: 10,
  peerBudgetS: 30,
  pairs: 2,
  peerRounds: 1,
  peerLoneIterations: 10,
};

const FULL: BenchParams = {
  size: 400,
  reps: 3,
  shapeSeconds: 1,
  shapes: [
    ...[4, 8, 16, 32, 64].map((rows): [number, number] => [rows, 64]),
    ...[2, 4, 8, 16, 32, 64].map((rows): [number, number] => [rows, 128]),
    ...[1, 2, 4, 8, 16, 32, 64].map((rows): [number, number] => [rows, 256]),
  ],
  layouts: [[1, 2], [2, 1], [3, 1], [4, 1]],
  concurrencies: [1, 4, 8],
  latencyIterations: 40,
  peerBudgetS: 120,
  pairs: 6,
  peerRounds: 3,
  peerLoneIterations: 200,
};

/** `[--quick] [--no-peers] [--systems a,b] [--no-write] [--render] [--out FILE] [--size N] [--reps N]` */
export function parseRunArgs(args: readonly string[]): RunOptions {
  const value = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
  const quick = args.includes('--quick');
  const params = structuredClone(quick ? QUICK : FULL);
  // Overrides for exploratory runs: --size N (corpus chunks), --reps N.
  for (const key of ['size', 'reps'] as const) {
    const v = value(key);
    if (v !== undefined) params[key] = Number(v);
  }
  return {
    quick,
    peers: !args.includes('--no-peers'),
    write: !args.includes('--no-write'),
    render: args.includes('--render'),
    systems: value('systems')?.split(','),
    out: value('out') ?? path.join(projectRoot(), 'BENCHMARKS.md'),
    command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
    params,
  };
}
