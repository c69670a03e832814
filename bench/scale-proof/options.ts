/** Command-line flags of `npm run scale:proof`. The defaults are the issue's: 2,000 chunks as 250 batches of 8. */
import { parseArgs } from 'node:util';

export interface ProofOptions {
  /** Only the namespace/bridge/cgroup/pinning scaffolding, with plain processes (no model, no NATS). */
  checkNetwork: boolean;
  chunks: number;
  batchSize: number;
  /** Throughput pairs (one run with 1 worker, one with 2, order alternating); 0 skips the throughput part. */
  pairs: number;
  /** Skip the delivery run (2 workers, one killed with SIGKILL). */
  skipDelivery: boolean;
  /** The kill comes once this share of the batches is acknowledged. */
  killAt: number;
  /** Each worker's memory cgroup limit. */
  workerMiB: number;
  /** One producer run is given up after this long. */
  runTimeoutMin: number;
}

function positive(name: string, text: string, integer = true): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) throw new Error(`--${name}: expected a ${integer ? 'whole ' : ''}number ≥ 0, got ${text}`);
  return value;
}

export function parseOptions(argv: string[]): ProofOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'check-network': { type: 'boolean', default: false },
      chunks: { type: 'string', default: '2000' },
      'batch-size': { type: 'string', default: '8' },
      pairs: { type: 'string', default: '3' },
      'skip-delivery': { type: 'boolean', default: false },
      'kill-at': { type: 'string', default: '0.3' },
      'worker-mib': { type: 'string', default: '1024' },
      'run-timeout-min': { type: 'string', default: '30' },
    },
  });
  const killAt = positive('kill-at', values['kill-at'], false);
  if (killAt <= 0 || killAt >= 1) throw new Error('--kill-at: a share strictly between 0 and 1');
  return {
    checkNetwork: values['check-network'],
    chunks: Math.max(1, positive('chunks', values.chunks)),
    batchSize: Math.max(1, positive('batch-size', values['batch-size'])),
    pairs: positive('pairs', values.pairs),
    skipDelivery: values['skip-delivery'],
    killAt,
    workerMiB: Math.max(256, positive('worker-mib', values['worker-mib'])),
    runTimeoutMin: Math.max(1, positive('run-timeout-min', values['run-timeout-min'], false)),
  };
}
