/**
 * `npm run scale:proof` (as root): the NATS JetStream worker mode on simulated hosts (issue 13, item 7).
 *
 * Four network namespaces joined by a bridge that this script creates and removes (bench/scale-proof/network.ts):
 * the broker (nats-server -js), two workers (`node dist/src/server.js` with EMBEDDING_NATS_URL, one worker thread and
 * one ONNX thread each, pinned to cores 0 and 1, each in its own memory cgroup), and the producer/collector
 * (`dist/bin/embed-queue.js`). Addresses are in 10.77.0.0/24 and exist only inside those namespaces.
 *
 *   1. Delivery: 2,000 real code chunks (NumPy/SciPy) as 250 batches of 8 through both workers; one is killed with
 *      SIGKILL once 30% of the batches are acknowledged. Checked: chunks in = chunks out, 0 duplicates after the
 *      collector's upsert, every vector whole, at least one redelivery (the broker's count, from /jsz).
 *   2. Throughput: the same job with 1 worker and with 2 in alternating order (--pairs), nothing killed; the ratio of
 *      the times per pair, target ≥ 1.8×. Timing figures need an idle machine.
 *
 * Prints the report, saves it as JSON under .scratch/scale-proof/<pid>/, exits 1 when a delivery check fails. Flags:
 * bench/scale-proof/options.ts. `--check-network` checks only the scaffolding, with plain processes.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../src/model/files.js';
import { cpuModel } from './measure/machine.js';
import { startBroker } from './scale-proof/broker.js';
import { writeProofChunks } from './scale-proof/chunks.js';
import { cleanupNow, onCleanup } from './scale-proof/cleanup.js';
import { runNetworkCheck } from './scale-proof/network-check.js';
import { createSimulatedNetwork, routesOf } from './scale-proof/network.js';
import { parseOptions } from './scale-proof/options.js';
import { limitedCgroup } from './scale-proof/placement.js';
import { proofPassed, renderReport, type ProofReport } from './scale-proof/render.js';
import { runJob, type RunContext } from './scale-proof/runs.js';
import type { WorkerHost } from './scale-proof/workers.js';

const options = parseOptions(process.argv.slice(2));
const workDir = path.join(projectRoot(), '.scratch', 'scale-proof', String(process.pid));
mkdirSync(workDir, { recursive: true });
if (options.checkNetwork) process.exit((await runNetworkCheck(workDir)) ? 0 : 1);

for (const built of ['dist/src/server.js', 'dist/bin/embed-queue.js']) {
  if (!existsSync(path.join(projectRoot(), built))) throw new Error(`${built} is missing: run \`npm run build\` (npm run scale:proof does)`);
}
const cores = os.availableParallelism();
if (cores < 2) throw new Error(`scale:proof pins each worker to a core of its own and needs 2 cores; this process may use ${cores}`);
// Workers on cores 0 and 1; the broker and the producer on the rest when there is a rest, else unpinned (on 2 cores
// they share the workers' cores: the lead's timing runs use an idle machine).
const restCpus = cores > 2 ? `2-${cores - 1}` : undefined;

const network = createSimulatedNetwork(['broker', 'w1', 'w2', 'producer']);
const topology = `bridge in its own namespace; ${[...network.hosts.values()].map((h) => `${h.name} ${h.address}`).join(', ')} (${network.subnet}; routes on a host: "${routesOf(network.host('w1'))}"); workers pinned to cores 0 and 1, each in a ${options.workerMiB} MiB memory cgroup; broker and producer ${restCpus ? `on cores ${restCpus}` : 'unpinned'}`;
console.log(`scale:proof: ${topology}`);

const workers: WorkerHost[] = [];
for (const [index, name] of ['w1', 'w2'].entries()) {
  workers.push({ name, host: network.host(name), cpus: String(index), cgroup: await limitedCgroup(name, options.workerMiB) });
}
const broker = await startBroker(network.host('broker'), workDir, restCpus);
onCleanup('removing the JetStream store', () => rmSync(path.join(workDir, 'jetstream'), { recursive: true, force: true }));

const chunksFile = path.join(workDir, 'chunks.ndjson');
const inputIds = await writeProofChunks(chunksFile, options.chunks);
const ctx: RunContext = {
  broker,
  producer: network.host('producer'),
  producerCpus: restCpus,
  workers,
  chunksFile,
  inputIds,
  batchSize: options.batchSize,
  workDir,
  timeoutMs: options.runTimeoutMin * 60_000,
};

const report: ProofReport = {
  date: new Date().toISOString(),
  machine: `${cpuModel()}, ${cores} cores, node ${process.version}`,
  options: { ...options },
  topology,
  throughput: [],
};
if (!options.skipDelivery) {
  console.log(`scale:proof: delivery run, 2 workers, SIGKILL to one at ${Math.round(options.killAt * 100)}% acknowledged`);
  report.delivery = await runJob(ctx, 'delivery', 2, options.killAt);
}
for (let pair = 0; pair < options.pairs; pair++) {
  for (const count of pair % 2 === 0 ? [1, 2] : [2, 1]) {
    console.log(`scale:proof: throughput pair ${pair + 1}/${options.pairs}, ${count} worker${count > 1 ? 's' : ''}`);
    report.throughput.push(await runJob(ctx, `pair${pair + 1}-${count}w`, count));
  }
}

writeFileSync(path.join(workDir, 'report.json'), JSON.stringify(report, null, 2));
process.stdout.write('\n' + renderReport(report));
console.log(`(logs, outputs and report.json in ${workDir})`);
cleanupNow();
process.exit(proofPassed(report) ? 0 : 1);
