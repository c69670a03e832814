/**
 * The broker host: nats-server with JetStream, located (or installed) by scripts/nats-server.sh as the tests do, run
 * inside its simulated host, client port 4222 and monitoring port 8222 on the host's address only. The consumer's
 * figures come from the monitoring endpoint's /jsz, the same numbers KEDA's nats-jetstream scaler reads.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/model/files.js';
import { fetchFrom } from './in-host.js';
import type { SimulatedHost } from './network.js';
import { spawnPlaced, type PlacedProcess } from './placement.js';

export interface ConsumerFigures {
  /** Jobs being redelivered right now: a gauge, the server forgets a job's redeliveries once it is acknowledged. */
  redelivered: number;
  ackPending: number;
  /** Jobs not yet delivered. */
  pending: number;
  /** Highest stream sequence acknowledged with everything below it. */
  ackFloor: number;
}

export interface Broker {
  url: string;
  monitorUrl: string;
  process: PlacedProcess;
  /** The durable consumer's figures, from `from` (a host that can reach the broker); zeros before it exists. */
  consumer(from: SimulatedHost, stream: string, consumer: string): Promise<ConsumerFigures>;
}

export function natsServerBinary(): string {
  try {
    return execFileSync('bash', [path.join(projectRoot(), 'scripts', 'nats-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch {
    throw new Error('no nats-server: scripts/nats-server.sh printed the fix above');
  }
}

interface Jsz {
  account_details?: Array<{
    stream_detail?: Array<{
      name: string;
      consumer_detail?: Array<{ name: string; num_redelivered: number; num_ack_pending: number; num_pending: number; ack_floor: { stream_seq: number } }>;
    }>;
  }>;
}

export async function startBroker(host: SimulatedHost, workDir: string, cpus: string | undefined): Promise<Broker> {
  const binary = natsServerBinary();
  const storeDir = path.join(workDir, 'jetstream');
  mkdirSync(storeDir, { recursive: true });
  const logFile = path.join(workDir, 'nats-server.log');
  const child = spawnPlaced({ host, cpus }, [binary, '-js', '-a', host.address, '-p', '4222', '-m', '8222', '-sd', storeDir], { logFile });
  const until = Date.now() + 20_000;
  while (!(existsSync(logFile) && readFileSync(logFile, 'utf8').includes('Server is ready'))) {
    if (child.child.exitCode !== null || Date.now() > until) throw new Error(`nats-server did not start: ${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : 'no log'}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const monitorUrl = `http://${host.address}:8222`;
  return {
    url: `nats://${host.address}:4222`,
    monitorUrl,
    process: child,
    async consumer(from, streamName, consumerName) {
      const response = await fetchFrom(from, `${monitorUrl}/jsz?accounts=true&streams=true&consumers=true`);
      if (response.status !== 200) throw new Error(`/jsz answered ${response.status}: ${response.body.slice(0, 200)}`);
      const jsz = JSON.parse(response.body) as Jsz;
      for (const account of jsz.account_details ?? []) {
        const stream = account.stream_detail?.find((s) => s.name === streamName);
        const detail = stream?.consumer_detail?.find((c) => c.name === consumerName);
        if (detail) return { redelivered: detail.num_redelivered, ackPending: detail.num_ack_pending, pending: detail.num_pending, ackFloor: detail.ack_floor.stream_seq };
      }
      return { redelivered: 0, ackPending: 0, pending: 0, ackFloor: 0 };
    },
  };
}
