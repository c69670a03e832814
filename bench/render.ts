/**
 * Rewrites the BENCHMARKS.md section from bench/.last-run.json without measuring again (what
 * `npm run bench -- --render` does).
 *
 *   node dist/bench/render.js [--out FILE] [--no-write]
 */
import { parseRunArgs } from './measure/params.js';
import { LAST_RUN } from './measure/paths.js';
import { renderSavedRun } from './report/write.js';

renderSavedRun(LAST_RUN, parseRunArgs(process.argv.slice(2)));
