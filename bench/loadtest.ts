/**
 * `npm run loadtest`: steady load and overload against the real server on loopback, bounded in time.
 * Prints a summary table and exits non-zero if any response was wrong or any promise was broken.
 *
 *   npm run loadtest -- [--steady-s 60] [--connections 16] [--overload-connections 96] [--overload-requests 192]
 */
import { parseArgs } from 'node:util';
import { startServer, UNCACHED } from '../harness/server.js';
import { embedAlone, formatReport, loadCorpus, REPORT_HEADER, type LoadReport } from '../harness/load-driver.js';
import { loadServerEnv, runOverload, runSteady } from '../harness/load-scenarios.js';

const { values } = parseArgs({
  options: {
    'steady-s': { type: 'string', default: '60' },
    connections: { type: 'string', default: '16' },
    'overload-connections': { type: 'string', default: '96' },
    'overload-requests': { type: 'string', default: '192' },
  },
});
const connections = Number(values.connections);
const overloadConnections = Number(values['overload-connections']);

const corpus = await loadCorpus(200);
const lines: string[] = [];
let failed = false;
const record = (name: string, report: LoadReport, budget: number, failures: string[]) => {
  lines.push(formatReport(name, report, budget));
  for (const p of [...report.problems, ...failures]) {
    failed = true;
    console.error(`  ${name}: ${p}`);
  }
};

let alone: Map<string, number[]>;
// Steady load runs against the default configuration: nothing may be refused.
const steadyServer = await startServer(UNCACHED);
try {
  await steadyServer.waitReady();
  alone = await embedAlone(steadyServer.url, corpus);
  const steady = await runSteady(steadyServer, corpus, alone, { connections, durationS: Number(values['steady-s']), sizes: [1, 256] });
  record(`steady: ${connections} clients, ${values['steady-s']} s, 1–256 chunks`, steady.report, steady.budget, steady.failures);
} finally {
  await steadyServer.stop();
}

// Overload runs against a queue bound of 512 chunks (about 15 s of work here), far below what 96 clients send.
const overloadServer = await startServer(loadServerEnv(512));
try {
  await overloadServer.waitReady();
  const overload = await runOverload(overloadServer, corpus, alone, { connections: overloadConnections, amount: Number(values['overload-requests']), sizes: [64, 256] });
  record(`overload: ${overloadConnections} clients, ${values['overload-requests']} requests, 64–256 chunks, queue bound 512`, overload.report, overload.budget, overload.failures);
} finally {
  await overloadServer.stop();
}

console.log(`\n${REPORT_HEADER}\n${lines.join('\n')}`);
process.exitCode = failed ? 1 : 0;
