/**
 * A queue worker host: `node dist/src/server.js` in its own simulated host, pinned to one core, in its own memory
 * cgroup, configured only by environment (the broker's address; one worker thread with one ONNX thread, so the core it
 * is pinned to is all it uses). Ready when its /ready answers 200, asked from the producer host.
 */
import path from 'node:path';
import type { ChildCgroup } from '../../harness/cgroup.js';
import { projectRoot } from '../../src/model/files.js';
import { UNCACHED } from '../../harness/server.js';
import { waitFor200 } from './in-host.js';
import type { SimulatedHost } from './network.js';
import { spawnPlaced, type PlacedProcess } from './placement.js';

export interface WorkerHost {
  name: string;
  host: SimulatedHost;
  cpus: string;
  cgroup: ChildCgroup;
}

export interface RunningWorker {
  worker: WorkerHost;
  process: PlacedProcess;
  /** SIGTERM (the worker drains and exits 0) and wait; SIGKILL after 30 s. */
  stop(): Promise<number | string>;
}

const PORT = 8000;

export async function startWorker(worker: WorkerHost, brokerUrl: string, asker: SimulatedHost, logFile: string): Promise<RunningWorker> {
  const env = {
    // Uncached: every run sends the same chunks, which the memory tier and the shared JetStream tier would answer.
    ...UNCACHED,
    EMBEDDING_NATS_URL: brokerUrl,
    EMBEDDING_WORKERS: '1',
    EMBEDDING_ONNX_THREADS: '1',
    PORT: String(PORT),
    HOST: worker.host.address,
    LOG_LEVEL: 'info',
  };
  const process_ = spawnPlaced({ host: worker.host, cpus: worker.cpus, cgroup: worker.cgroup }, [process.execPath, '--expose-gc', path.join(projectRoot(), 'dist', 'src', 'server.js')], { env, logFile, cwd: projectRoot() });
  const alive = () => process_.child.exitCode === null && process_.child.signalCode === null;
  await waitFor200(asker, `http://${worker.host.address}:${PORT}/ready`, 120_000, alive);
  return {
    worker,
    process: process_,
    async stop() {
      if (!alive()) return process_.exited;
      process_.child.kill('SIGTERM');
      const timer = setTimeout(() => process_.child.kill('SIGKILL'), 30_000);
      const code = await process_.exited;
      clearTimeout(timer);
      return code;
    },
  };
}
