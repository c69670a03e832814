/**
 * Simulated hosts: one Linux network namespace per host, each with one veth link to a bridge that lives in a namespace
 * of its own (the "switch"), addresses in a private /24 that exist only inside those namespaces. Nothing is added to
 * the machine's own namespace (no address, no route, no NAT), so no packet can leave the machine, and a run cannot
 * collide with another one's addresses. Needs root and iproute2 (`ip`); `nsenter` runs a command on a host.
 *
 * Namespaces are named `sp<pid>-<host>`: a run killed with SIGKILL (no cleanup possible) leaves namespaces whose pid is
 * dead, and the next run removes them.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { onCleanup } from './cleanup.js';

const NETNS_DIR = '/run/netns';
const PREFIX = 'sp';

export interface SimulatedHost {
  name: string;
  /** The network namespace's name (`ip netns`), and its file for `nsenter --net=`. */
  netns: string;
  address: string;
  /** `argv` run inside this host's network namespace (only the network is separate: cgroups and /sys stay visible). */
  wrap(argv: string[]): string[];
}

export interface SimulatedNetwork {
  subnet: string;
  hosts: Map<string, SimulatedHost>;
  host(name: string): SimulatedHost;
  /** Kills what still runs in the namespaces and removes them (the veth links go with them). */
  remove(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function existingNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

function deleteNamespace(netns: string): void {
  // A namespace lives as long as a process is in it: kill those first, then drop its name.
  let pids: string[] = [];
  try {
    pids = execFileSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    // gone already
  }
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  try {
    ip('netns', 'del', netns);
  } catch {
    // gone already
  }
}

/** Removes namespaces left by earlier runs that died without cleaning up (their pid no longer runs). */
export function removeStaleNamespaces(): string[] {
  const stale = existingNamespaces().filter((n) => {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(n);
    return match !== null && Number(match[1]) !== process.pid && !processAlive(Number(match[1]));
  });
  stale.forEach(deleteNamespace);
  return stale;
}

/**
 * Creates the switch and one namespace per host name, host i at `<subnet>.(i+1)`. Every step is registered for cleanup
 * as it is made, so a failure halfway leaves nothing behind.
 */
export function createSimulatedNetwork(hostNames: string[], subnet = '10.77.0'): SimulatedNetwork {
  if (process.getuid?.() !== 0) throw new Error('scale:proof needs root (network namespaces, a bridge, memory cgroups)');
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('scale:proof needs iproute2 (`ip`): apt-get install iproute2');
  }
  removeStaleNamespaces();
  const id = `${PREFIX}${process.pid}`;
  const created: string[] = [];
  const removeAll = () => {
    for (const netns of created.splice(0).reverse()) deleteNamespace(netns);
  };
  const unregister = onCleanup(`removing network namespaces ${id}-*`, removeAll);

  const add = (netns: string) => {
    ip('netns', 'add', netns);
    created.push(netns);
    ip('-n', netns, 'link', 'set', 'lo', 'up');
  };
  const hub = `${id}-switch`;
  add(hub);
  ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', hub, 'link', 'set', 'br0', 'up');

  const hosts = new Map<string, SimulatedHost>();
  hostNames.forEach((name, index) => {
    if (!/^[a-z0-9]{1,10}$/.test(name)) throw new Error(`host name ${name}: 1-10 lowercase letters or digits (interface names are short)`);
    const netns = `${id}-${name}`;
    add(netns);
    const address = `${subnet}.${index + 1}`;
    // The veth pair is made inside the switch's namespace, its far end moved straight into the host's as eth0.
    ip('-n', hub, 'link', 'add', `p-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
    ip('-n', hub, 'link', 'set', `p-${name}`, 'master', 'br0');
    ip('-n', hub, 'link', 'set', `p-${name}`, 'up');
    ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('-n', netns, 'link', 'set', 'eth0', 'up');
    hosts.set(name, { name, netns, address, wrap: (argv) => ['nsenter', `--net=${NETNS_DIR}/${netns}`, '--', ...argv] });
  });

  return {
    subnet: `${subnet}.0/24`,
    hosts,
    host(name) {
      const host = hosts.get(name);
      if (!host) throw new Error(`no simulated host ${name}`);
      return host;
    },
    remove: unregister,
  };
}

/** What a host's namespace can reach: its routes (only the /24, no default route) for the report. */
export function routesOf(host: SimulatedHost): string {
  return execFileSync('ip', ['-n', host.netns, 'route'], { encoding: 'utf8' }).trim();
}
