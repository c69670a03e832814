/**
 * `npm run bench:threads -- [--clients 1,4,8] [--reps 3]`: where the service's CPU goes, thread by
 * thread. Starts the server (default configuration unless the environment says otherwise), drives it
 * with the benchmark's request mix over HTTP, and reads each thread's user + system time from
 * /proc/<pid>/task before and after: the two busiest threads are the ONNX workers (inference and
 * tokenization), then the main thread (HTTP, validation, planning, JSON), then V8's helpers (GC).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildCorpus } from '../harness/corpus.js';
import { SERVER_ENTRY, UNCACHED } from '../harness/server.js';
import { median } from '../harness/stats.js';
import { drive, startChild } from './lib/http.js';
import { requestMix } from './lib/mix.js';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '1,4,8' }, reps: { type: 'string', default: '3' } } });
const corpus = buildCorpus(400);
const bodies = requestMix(corpus).map((r) => JSON.stringify(r));
const server = await startChild(process.execPath, [SERVER_ENTRY], { env: { LOG_LEVEL: 'warn', ...UNCACHED } });

/** CPU ms of every thread of the server, by thread id. */
function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${server.pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${server.pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, ((Number(fields[11]) + Number(fields[12])) * 1000) / 100); // clock ticks at USER_HZ = 100
    } catch {
      // the thread ended between listing and reading
    }
  }
  return out;
}

interface Rep {
  chunksPerS: number;
  total: number;
  workers: number;
  main: number;
  other: number;
}

try {
  await drive(server.url, bodies.slice(0, 4), 2, server.pid); // warm-up
  console.log('| clients | chunks/s | server CPU ms per chunk | worker threads | main thread | other threads |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const clients of values.clients.split(',').map(Number)) {
    const reps: Rep[] = [];
    for (let r = 0; r < Number(values.reps); r++) {
      const before = threadCpuMs();
      const { wall } = await drive(server.url, bodies, clients, server.pid);
      const after = threadCpuMs();
      const perChunk = [...after].map(([tid, ms]) => ({ tid, ms: (ms - (before.get(tid) ?? 0)) / corpus.length }));
      const mainTid = String(server.pid);
      const others = perChunk.filter((t) => t.tid !== mainTid).sort((a, b) => b.ms - a.ms);
      const workers = others.slice(0, 2);
      reps.push({
        chunksPerS: corpus.length / wall,
        total: perChunk.reduce((s, t) => s + t.ms, 0),
        workers: workers.reduce((s, t) => s + t.ms, 0),
        main: perChunk.find((t) => t.tid === mainTid)?.ms ?? 0,
        other: others.slice(2).reduce((s, t) => s + t.ms, 0),
      });
    }
    const m = (key: keyof Rep) => median(reps.map((r) => r[key])).toFixed(1);
    console.log(`| ${clients} | ${m('chunksPerS')} | ${m('total')} | ${m('workers')} | ${m('main')} | ${m('other')} |`);
  }
} finally {
  await server.stop();
}
