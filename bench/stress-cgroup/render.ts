/** A saved run as markdown tables (pasted into RELIABILITY.md): memory first, then requests, then the details behind them. */
import type { ScenarioResult } from './scenario.js';
import { brokenPromises } from './verdict.js';

export interface StressRun {
  startedAt: string;
  commit: string;
  command: string;
  machine: string[];
  corpus: string;
  smallRequests: string;
  scenarios: ScenarioResult[];
}

const mib = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? 'n/a' : `${Math.round(bytes / 2 ** 20).toLocaleString('en-US')} MiB`);
const pct = (x: number) => `${Math.round(x * 100)}%`;
const int = (n: number) => n.toLocaleString('en-US');
const secs = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s` : 'n/a');
const counts = (c: Record<string, number>) => Object.entries(c).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${int(n)}`).join(', ') || 'none';

function limitCell(r: ScenarioResult): string {
  const base = `${r.limitMiB} MiB (budget ${mib(r.idle.budget)})`;
  if (!r.lower) return base;
  const lowered = r.lower.doneAtS === null ? `lowering to ${r.lower.toMiB} MiB failed: ${r.lower.error}` : `→ ${r.lower.toMiB} MiB at ${r.lower.doneAtS.toFixed(0)} s`;
  return `${base} ${lowered}`;
}

function decisionsCell(r: ScenarioResult): string {
  const { start: _start, ...acted } = r.decisions.byKind;
  return counts(acted);
}

function chunksCell(r: ScenarioResult): string {
  if (r.load.kind === 'json') {
    const j = r.load.json;
    return `${int(j.chunksSent)} sent in ${j.requests} requests → ${int(j.chunksReceived)} back${j.cutByTime ? ` (${j.cutByTime} cut by the time bound)` : ''}`;
  }
  const n = r.load.ndjson;
  const end = n.complete ? 'stream complete' : n.cutByTime ? `stopped reading at ${(n.seconds / 60).toFixed(1)} min` : 'stream ended early';
  return `${int(n.chunksSent)} sent in 1 request (${mib(n.bodyBytes)} ${n.body === 'ndjson' ? 'NDJSON body, streamed' : 'JSON body'}) → ${int(n.linesReceived)} lines, ${end}; first line at ${n.firstLineS?.toFixed(1) ?? 'n/a'} s`;
}

const orderCell = (r: ScenarioResult) => {
  const o = r.load.kind === 'json' ? r.load.json.order : r.load.ndjson.order;
  const s = r.small.order;
  const bad = o.missing + o.duplicated + o.outOfOrder + o.unknown + o.badVectors + s.missing + s.duplicated + s.outOfOrder + s.unknown + s.badVectors;
  return bad === 0 ? `all ${int(o.received + s.received)} in order, once, ids matching` : `**${bad} wrong** (see below)`;
};

function throughputCell(r: ScenarioResult): string {
  const received = `${(r.chunksReceived / r.loadSeconds).toFixed(1)} chunks/s received over ${(r.loadSeconds / 60).toFixed(1)} min`;
  // A JSON answer arrives whole or not at all: the server's own counter shows the work done on requests cut by the time bound.
  const server = r.serverChunks == null ? '' : `; server embedded ${int(r.serverChunks)} (${(r.serverChunks / r.loadSeconds).toFixed(1)}/s, small requests included)`;
  return received + server;
}

export function renderRun(run: StressRun): string {
  const out: string[] = [];
  out.push(`Run of ${run.startedAt} (commit ${run.commit}): \`${run.command}\``, '');
  out.push(...run.machine.map((m) => `- ${m}`), `- corpus: ${run.corpus}`, `- small requests: ${run.smallRequests}`, '');
  out.push('| scenario | limit (budget) | kernel: peak charge / failcnt / OOM kills | peak RSS / budget then | peak working set / budget then | highest use / budget | supervisor decisions | recycles |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const r of run.scenarios) {
    const h = r.health;
    out.push(
      `| ${r.key}: ${r.title} | ${limitCell(r)} | ${mib(r.kernel.peakBytes)} / ${r.kernel.failcnt ?? 'n/a'} / ${r.kernel.oomKills ?? 'n/a'} | ${mib(h.peakRss)} / ${mib(h.budgetAtPeakRss)} | ` +
        `${mib(h.peakWorkingSet)} / ${mib(h.budgetAtPeakWorkingSet)} | ${pct(h.maxRatio)} | ${decisionsCell(r)} | ${r.recycles ?? 'n/a'} |`,
    );
  }
  out.push('', '| scenario | chunks | every chunk once, in order | throughput | small requests: sent, statuses | small p50 / p99 / max | longest small wait | longest with no small 200 | promises |');
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const r of run.scenarios) {
    const s = r.small;
    const broken = brokenPromises(r);
    out.push(
      `| ${r.key} | ${chunksCell(r)} | ${orderCell(r)} | ${throughputCell(r)} | ` +
        `${int(s.sent)} (${counts(s.statuses)}) | ${secs(s.p50Ms)} / ${secs(s.p99Ms)} / ${secs(s.maxMs)} | ${secs(s.longestWaitMs)} | ${secs(s.longestWithout200Ms)} | ` +
        `${broken.length === 0 ? 'kept' : `**${broken.length} broken**`} |`,
    );
  }
  for (const r of run.scenarios) {
    out.push('', `**${r.key}: ${r.title}.** ${details(r)}`);
    const broken = brokenPromises(r);
    if (broken.length) out.push('', ...broken.map((b) => `- broken: ${b}`));
  }
  return out.join('\n') + '\n';
}

function details(r: ScenarioResult): string {
  const h = r.health;
  const parts = [
    `Small requests every ${r.smallEveryMs} ms. Server settings: ${Object.keys(r.env).length ? Object.entries(r.env).map(([k, v]) => `${k}=${v}`).join(' ') : 'defaults'}; cgroup v${r.cgroupVersion}, limit file ${r.idle.limitFile ?? 'none'}.`,
    `Start-up ${r.startupS.toFixed(1)} s; idle RSS ${mib(r.idle.rss)} against a ${mib(r.idle.budget)} budget.`,
    `Budgets seen: ${h.budgets.map(mib).join(' → ')}. Lowest batch size ${h.lowestBatch}, lowest concurrency ${h.lowestConcurrency};`,
    `refusing in ${pct(h.refusingShare)} and holding batches in ${pct(h.pausedShare)} of ${int(h.samples)} /health samples (${h.failures} failed or took over 2 s); pressure ${counts(h.pressureCounts)}.`,
  ];
  if (r.load.kind === 'json') parts.push(`Large requests: ${counts(r.load.json.statuses)}; ${r.load.json.retried503} retried after 503.`);
  else parts.push(`Giant request: ${r.load.ndjson.status === null ? 'no status line before the time bound' : `HTTP ${r.load.ndjson.status}`}, ${r.load.ndjson.retried503} retried after 503.`);
  parts.push(`Small requests: ${int(r.small.chunks)} chunks; ${r.small.over30s} not answered within 30 s.`);
  if (r.lower) parts.push(`Limit lowered in ${r.lower.attempts} attempt(s)${r.lower.error ? ` (last error: ${r.lower.error})` : ''}.`);
  const first = r.decisions.first.slice(0, 8).map((d) => `${d.kind}${d.reason ? ` (${d.reason})` : ''}`);
  if (first.length) parts.push(`First decisions: ${first.join('; ')}.`);
  return parts.join(' ');
}
