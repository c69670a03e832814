/** Where the bench finds its scripts, the peers and its own output. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../../src/model/files.js';

export const ROOT = projectRoot();
export const LAST_RUN = path.join(ROOT, 'bench', '.last-run.json');
/** The compiled job scripts, beside this module's directory in dist/bench/. */
export const CEILING_SCRIPT = fileURLToPath(new URL('../ceiling.js', import.meta.url));
export const PAIRED_SCRIPT = fileURLToPath(new URL('../paired.js', import.meta.url));
/** The peers stay plain JavaScript and Python in the source tree (their own installs). */
export const TJS_DIR = path.join(ROOT, 'bench', 'peers', 'transformersjs');
export const PY = path.join(ROOT, 'bench', 'peers', 'python', '.venv', 'bin', 'python');
export const PY_SERVER = path.join(ROOT, 'bench', 'peers', 'python', 'server.py');
