/**
 * `npm run loadtest`: steady load and overload against the real server on loopback, bounded in time.
 * Prints a summary table and exits non-zero if any response was wrong or any promise was broken.
 *
 *   npm run loadtest -- [--steady-s 60] [--connections 16] [--overload-connections 96] [--overload-requests 288]
 */
import { parseArgs } from 'node:util';
import { startServer } from '../test/helpers/server.js';
import { embedAlone, formatReport, loadCorpus, REPORT_HEADER, type LoadReport } from './load/driver.js';
import { loadServerEnv, runOverload, runSteady } from './load/scenarios.js';

const { values } = parseArgs({
  options: {
    'steady-s': { type: 'string', default: '60' },
    connections: { type: 'string', default: '16' },
    'overload-connections': { type: 'string', default: '96' },
    'overload-requests': { type: 'string', default: '288' },
  },
});
const connections = Number(values.connections);
const overloadConnections = Number(values['overload-connections']);

const corpus = await loadCorpus(400);
const lines: string[] = [];
let failed = false;
const record = (name: string, report: LoadReport, budget: number, failures: string[]) => {
  lines.push(formatReport(name, report, budget));
  for (const p of [...report.problems, ...failures]) {
    failed = true;
    console.error(`  ${name}: ${p}`);
  }
};

// Room for every steady client's largest request at once, so only overload is ever refused.
const server = await startServer(loadServerEnv(connections * 256));
try {
  await server.waitReady();
  const alone = await embedAlone(server.url, corpus);
  const steady = await runSteady(server, corpus, alone, { connections, durationS: Number(values['steady-s']), sizes: [1, 256] });
  record(`steady: ${connections} clients, ${values['steady-s']} s, 1–256 chunks`, steady.report, steady.budget, steady.failures);

  const overload = await runOverload(server, corpus, alone, { connections: overloadConnections, amount: Number(values['overload-requests']), sizes: [64, 256] });
  record(`overload: ${overloadConnections} clients, ${values['overload-requests']} requests, 64–256 chunks`, overload.report, overload.budget, overload.failures);
} finally {
  await server.stop();
}

console.log(`\n${REPORT_HEADER}\n${lines.join('\n')}`);
process.exitCode = failed ? 1 : 0;
