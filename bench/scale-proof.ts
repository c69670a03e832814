/**
 * `npm run scale:proof` (root): the queue worker mode on simulated hosts. See bench/scale-proof/ for the parts.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../src/model/files.js';
import { runNetworkCheck } from './scale-proof/network-check.js';

const { values } = parseArgs({ options: { 'check-network': { type: 'boolean', default: false } } });
const workDir = path.join(projectRoot(), '.scratch', 'scale-proof', String(process.pid));
mkdirSync(workDir, { recursive: true });
if (values['check-network']) process.exit((await runNetworkCheck(workDir)) ? 0 : 1);
