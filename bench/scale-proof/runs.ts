/**
 * The two kinds of run. Delivery: two workers, the producer publishes every batch, one worker is killed with SIGKILL
 * once a share of the batches is acknowledged, and the collector's output is checked chunk by chunk. Throughput: the
 * same job with one worker or with two, nothing killed, timed from the producer's start to its exit (every chunk's
 * result collected).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/model/files.js';
import type { Broker, ConsumerFigures } from './broker.js';
import { checkDelivery, type DeliveryCheck } from './chunks.js';
import { fetchFrom } from './in-host.js';
import type { SimulatedHost } from './network.js';
import { spawnPlaced } from './placement.js';
import { startWorker, type RunningWorker, type WorkerHost } from './workers.js';

/** The worker mode's defaults (EMBEDDING_NATS_STREAM, EMBEDDING_NATS_CONSUMER): the proof sets neither. */
export const STREAM = 'EMBEDDING_JOBS';
export const CONSUMER = 'embedding-workers';

export interface RunContext {
  broker: Broker;
  producer: SimulatedHost;
  producerCpus: string | undefined;
  workers: WorkerHost[];
  chunksFile: string;
  inputIds: string[];
  batchSize: number;
  workDir: string;
  timeoutMs: number;
}

export interface RunResult {
  label: string;
  workers: number;
  job: string;
  seconds: number;
  chunksPerSecond: number;
  delivery: DeliveryCheck;
  /** Deliveries that were redeliveries, summed over the surviving workers' `redeliveries_total` (their /metrics). */
  redeliveries: number;
  /** The same from every worker's log (killed ones included): `batch_started` events with a delivery count above 1. */
  redeliveriesLogged: number;
  producerExit: number | string;
  /** The collector's own summary (embed-queue's last stderr line): duplicate_results are results it dropped by upsert. */
  collector?: { chunks_in: number; chunks_out: number; failed_batches: number; duplicate_results: number; duplicate_publishes: number };
  killed?: { worker: string; atAcked: number; ackPendingAtKill: number; secondsIn: number };
}

function lastJsonLine(file: string): unknown {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
  try {
    return JSON.parse(lines[lines.length - 1] ?? '');
  } catch {
    return undefined;
  }
}

function loggedRedeliveries(file: string): number {
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.includes('embedding.batch_started.v1') && Number(/"delivery":(\d+)/.exec(line)?.[1] ?? 1) > 1).length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startWorkers(ctx: RunContext, count: number, label: string): Promise<RunningWorker[]> {
  return Promise.all(ctx.workers.slice(0, count).map((w) => startWorker(w, ctx.broker.url, ctx.producer, path.join(ctx.workDir, `${label}-${w.name}.log`))));
}

/**
 * One job through `count` workers. With `killAt`, the last worker is killed with SIGKILL once that share of the
 * batches is acknowledged (and something is in flight, so the kill cuts work short).
 */
export async function runJob(ctx: RunContext, label: string, count: number, killAt?: number): Promise<RunResult> {
  const running = await startWorkers(ctx, count, label);
  const before: ConsumerFigures = await ctx.broker.consumer(ctx.producer, STREAM, CONSUMER);
  const job = `${label}-${process.pid}`;
  const outFile = path.join(ctx.workDir, `${label}.out.ndjson`);
  const batches = Math.ceil(ctx.inputIds.length / ctx.batchSize);
  const argv = [process.execPath, path.join(projectRoot(), 'dist', 'bin', 'embed-queue.js'), '--nats', ctx.broker.url, '--ndjson', ctx.chunksFile, '--out', outFile, '--job', job, '--batch-size', String(ctx.batchSize)];
  const started = Date.now();
  const producer = spawnPlaced({ host: ctx.producer, cpus: ctx.producerCpus }, argv, { logFile: path.join(ctx.workDir, `${label}-producer.log`), cwd: projectRoot() });
  let killed: RunResult['killed'];
  let exit: number | string | undefined;
  void producer.exited.then((code) => (exit = code));
  const deadline = started + ctx.timeoutMs;
  while (exit === undefined) {
    if (Date.now() > deadline) {
      producer.child.kill('SIGKILL');
      throw new Error(`${label}: the producer did not finish within ${ctx.timeoutMs / 60_000} min (see ${ctx.workDir})`);
    }
    if (killAt !== undefined && killed === undefined) {
      const now = await ctx.broker.consumer(ctx.producer, STREAM, CONSUMER);
      const acked = now.ackFloor - before.ackFloor;
      if (acked >= killAt * batches && now.ackPending > 0) {
        const victim = running[running.length - 1]!;
        victim.process.child.kill('SIGKILL');
        killed = { worker: victim.worker.name, atAcked: acked, ackPendingAtKill: now.ackPending, secondsIn: (Date.now() - started) / 1000 };
        process.stderr.write(`scale:proof: ${label}: SIGKILL to ${victim.worker.name} with ${acked}/${batches} batches acknowledged, ${now.ackPending} in flight\n`);
      }
    }
    // Each look at the broker starts a node process on the producer host: once a second keeps that off the workers' cores.
    await sleep(killAt !== undefined && killed === undefined ? 1000 : 250);
  }
  const seconds = (Date.now() - started) / 1000;
  let redeliveries = 0;
  for (const w of running.filter((r) => r.process.child.exitCode === null && r.process.child.signalCode === null)) {
    const metrics = await fetchFrom(ctx.producer, `http://${w.worker.host.address}:8000/metrics`);
    redeliveries += Number(/^\w*redeliveries_total(?:\{[^}]*\})? (\d+)/m.exec(metrics.body)?.[1] ?? NaN);
  }
  await Promise.all(running.map((w) => w.stop()));
  const redeliveriesLogged = running.reduce((n, w) => n + loggedRedeliveries(path.join(ctx.workDir, `${label}-${w.worker.name}.log`)), 0);
  return {
    label,
    workers: count,
    collector: lastJsonLine(path.join(ctx.workDir, `${label}-producer.log`)) as RunResult['collector'],
    job,
    seconds,
    chunksPerSecond: ctx.inputIds.length / seconds,
    delivery: checkDelivery(ctx.inputIds, outFile),
    redeliveries,
    redeliveriesLogged,
    producerExit: exit,
    killed,
  };
}
