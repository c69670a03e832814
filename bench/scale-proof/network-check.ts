/**
 * `npm run scale:proof -- --check-network`: the scaffolding alone, with plain processes. A TCP server on the "broker"
 * host (pinned to core 0, in a 64 MiB memory cgroup) is reached from the "producer" host through the bridge; the
 * machine's own namespace cannot reach it; the server runs where it was put (namespace, cgroup, affinity); and after
 * cleanup no namespace, cgroup or process is left.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cleanupNow } from './cleanup.js';
import { createSimulatedNetwork, routesOf, type SimulatedNetwork } from './network.js';
import { limitedCgroup, spawnPlaced } from './placement.js';

const PORT = 4222;
const SERVER = `require('net').createServer((s) => s.end('hello from ' + process.pid + '\\n')).listen(${PORT}, process.argv[1], () => console.log('listening'))`;
const PROBE = `const s = require('net').connect(${PORT}, process.argv[1]); let d = ''; s.on('data', (c) => (d += c)); s.on('end', () => { console.log(d.trim()); }); s.on('error', (e) => { console.log('error ' + e.code); }); s.setTimeout(2000, () => { console.log('timeout'); s.destroy(); });`;

function probeFromRoot(address: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(PORT, address);
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
    socket.on('data', () => resolve('connected'));
  });
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function runNetworkCheck(workDir: string): Promise<boolean> {
  const results: Array<[string, boolean, string]> = [];
  const check = (what: string, ok: boolean, detail: string) => {
    results.push([what, ok, detail]);
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${detail}`);
  };
  let network: SimulatedNetwork | undefined;
  try {
    network = createSimulatedNetwork(['broker', 'producer']);
    const broker = network.host('broker');
    const producer = network.host('producer');
    check('routes on a simulated host', !/default/.test(routesOf(producer)), routesOf(producer));

    const cgroup = await limitedCgroup('check', 64);
    const logFile = path.join(workDir, 'check-server.log');
    const server = spawnPlaced({ host: broker, cpus: '0', cgroup }, [process.execPath, '-e', SERVER, broker.address], { logFile });
    await waitFor(() => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('listening'), 'the server to listen');
    const pid = server.child.pid!;

    const [command, ...args] = producer.wrap([process.execPath, '-e', PROBE, broker.address]);
    const probe = execFileSync(command!, args, { encoding: 'utf8' }).trim();
    check('producer host → broker host over the bridge', probe === `hello from ${pid}`, probe);
    const fromRoot = await probeFromRoot(broker.address);
    check("the machine's own namespace cannot reach the broker host", fromRoot !== 'connected', fromRoot);

    const netnsOf = (p: number | string) => readlinkSync(`/proc/${p}/ns/net`);
    check('server in its own network namespace', netnsOf(pid) !== netnsOf('self'), `${netnsOf(pid)} (mine ${netnsOf('self')})`);
    const procs = readFileSync(path.join(cgroup.dir, 'cgroup.procs'), 'utf8').split('\n');
    check('server in its memory cgroup', procs.includes(String(pid)), cgroup.dir);
    const allowed = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    check('server pinned to core 0', allowed === '0', `Cpus_allowed_list ${allowed} of ${os.availableParallelism()} cores`);

    const names = [...network.hosts.values()].map((h) => h.netns);
    cleanupNow();
    const left = names.filter((n) => existsSync(`/run/netns/${n}`));
    check('cleanup removed the namespaces', left.length === 0, left.length === 0 ? 'none left' : left.join(', '));
    check('cleanup removed the cgroup', !existsSync(cgroup.dir), cgroup.dir);
    const ended = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r('still running'), 5000))]);
    check('cleanup ended the server', ended === 'SIGKILL', `pid ${pid}: ${String(ended)}`);
  } finally {
    cleanupNow();
  }
  return results.every(([, ok]) => ok);
}
