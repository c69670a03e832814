/**
 * The test-suite version of `npm run loadtest`: shorter, asserting correctness and status codes only.
 */
import test from 'ava';
import { embedAlone, formatReport, loadCorpus, REPORT_HEADER } from '../../harness/load-driver.js';
import { loadServerEnv, runOverload, runSteady } from '../../harness/load-scenarios.js';
import { startServer } from '../../harness/server.js';

test.serial('steady mixed load, then overload: every answer correct, overload refused with 503 + Retry-After, server fine after', async (t) => {
  const corpus = await loadCorpus(60);
  const server = await startServer(loadServerEnv(4 * 24));
  try {
    await server.waitReady();
    const alone = await embedAlone(server.url, corpus);
    const steady = await runSteady(server, corpus, alone, { connections: 4, amount: 24, sizes: [1, 24] });
    t.log(`${REPORT_HEADER}\n${formatReport('steady', steady.report, steady.budget)}`);
    t.deepEqual(steady.report.problems, []);
    t.deepEqual(steady.failures, []);
    t.true(steady.report.vectorsChecked > 0);

    const overload = await runOverload(server, corpus, alone, { connections: 32, amount: 64, sizes: [16, 64] });
    t.log(formatReport('overload', overload.report, overload.budget));
    t.deepEqual(overload.report.problems, []);
    t.deepEqual(overload.failures, []);
  } finally {
    t.is(await server.stop(), 0);
  }
});
