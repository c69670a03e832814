/** Starting the service and the Python peer as children, and driving them over HTTP on 127.0.0.1. */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { percentile, procCpuS } from '../../harness/stats.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ChildOptions {
  env?: Record<string, string>;
  cwd?: string;
  healthPath?: string;
  timeoutMs?: number;
}

export interface RunningChild {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Spawns `command args` (`{port}` in an argument becomes the port) with `env`, waits until GET url/health answers 200. */
export async function startChild(command: string, args: string[], { env, cwd, healthPath = '/health', timeoutMs = 120_000 }: ChildOptions = {}): Promise<RunningChild> {
  const port = await freePort();
  const child = spawn(command, args.map((a) => a.replace('{port}', String(port))), {
    cwd,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited (${child.exitCode}): ${stderr}`);
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${command} not healthy after ${timeoutMs} ms: ${stderr}`);
    }
    try {
      const res = await fetch(url + healthPath);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Node's own HTTP client on a keep-alive agent, as a service's real clients (and autocannon) talk:
 * Node 20's fetch adds 1–5 ms of client-side work per request (measured against GET /health),
 * which would be billed to whichever server is being measured.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export function post(url: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const request = http.request(url, { method: 'POST', agent, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        else resolve(text);
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

export interface DriveResult {
  wall: number;
  latencies: number[];
  clientCpuS: number;
  serverCpuS: number;
}

/**
 * `concurrency` clients take the next request from the shared list until none is left. Returns the
 * wall time, each request's latency (POST `route`, /embed unless given), the CPU this (client) process spent, so the load generator's
 * share of the two cores is visible, and the CPU the server spent (all its threads).
 */
export async function drive(url: string, bodies: readonly string[], concurrency: number, serverPid?: number, route = '/embed'): Promise<DriveResult> {
  let next = 0;
  const latencies: number[] = [];
  const serverCpu = () => (serverPid === undefined ? NaN : procCpuS(serverPid));
  const server0 = serverCpu();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= bodies.length) return;
        const s = performance.now();
        await post(`${url}${route}`, bodies[i]!);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wall, latencies, clientCpuS: (cpu.user + cpu.system) / 1e6, serverCpuS: serverCpu() - server0 };
}

/** p50 of one request with one chunk, sent `n` times one after another on an idle server. */
export async function idleLatency(url: string, text: string, n: number): Promise<number> {
  const body = JSON.stringify({ batch_id: 'idle', chunks: [{ chunk_id: 'short', content: text }] });
  for (let i = 0; i < 5; i++) await post(`${url}/embed`, body);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await post(`${url}/embed`, body);
    times.push(performance.now() - s);
  }
  return percentile(times, 50);
}
