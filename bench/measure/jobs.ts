/**
 * Runs job scripts as child processes, one per measurement, so each peak RSS is that
 * configuration's alone; the job goes in a JSON file, the answer comes back on the last stdout line.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './paths.js';

export class JobRunner {
  readonly #dir = mkdtempSync(path.join(os.tmpdir(), 'doctown-bench-'));
  #jobs = 0;

  /** `node script <job file>` in `cwd`; the JSON on its last stdout line. */
  run<T>(script: string, job: object, cwd = ROOT): Promise<T> {
    return new Promise((resolve, reject) => {
      const file = path.join(this.#dir, `job-${this.#jobs++}.json`);
      writeFileSync(file, JSON.stringify(job));
      const p = spawn(process.execPath, [script, file], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      p.on('exit', (code) => {
        const line = out.trim().split('\n').pop();
        if (code !== 0 || !line) return reject(new Error(`${script} ${JSON.stringify(job).slice(0, 300)} exited ${code}: ${err}`));
        resolve(JSON.parse(line) as T);
      });
    });
  }

  close(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
