/**
 * HTTP from inside a simulated host: the hosts' addresses exist only in their namespaces, so the proof (in the machine's
 * own namespace) asks a short-lived node process on the producer host to fetch for it.
 */
import { execFile } from 'node:child_process';
import type { SimulatedHost } from './network.js';

const FETCH = `fetch(process.argv[1], { signal: AbortSignal.timeout(3000) }).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), (e) => process.stdout.write(JSON.stringify({ status: 0, body: String(e) })))`;

export interface InHostResponse {
  status: number;
  body: string;
}

export function fetchFrom(host: SimulatedHost, url: string): Promise<InHostResponse> {
  const [command, ...args] = host.wrap([process.execPath, '-e', FETCH, url]);
  return new Promise((resolve) => {
    execFile(command!, args, { encoding: 'utf8', timeout: 10_000 }, (error, stdout) => {
      if (error && stdout === '') resolve({ status: 0, body: error.message });
      else resolve(JSON.parse(stdout) as InHostResponse);
    });
  });
}

/** Polls `url` from `host` until it answers 200; throws after `ms` or as soon as `alive()` turns false. */
export async function waitFor200(host: SimulatedHost, url: string, ms: number, alive: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  let last: InHostResponse = { status: 0, body: 'never asked' };
  while (Date.now() < until) {
    if (!alive()) throw new Error(`${url}: the process exited before it answered 200 (last: ${last.status} ${last.body.slice(0, 200)})`);
    last = await fetchFrom(host, url);
    if (last.status === 200) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer 200 within ${ms / 1000} s (last: ${last.status} ${last.body.slice(0, 200)})`);
}
