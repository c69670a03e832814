/** Runs a tool the model preparation starts (mvn, python, pip), with a time limit. */
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface RunOptions {
  timeoutMs: number;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** What of the output a failure's message quotes; by default its last three lines. */
  detail?: (lines: string[]) => string;
}

const lastLines = (lines: string[]) => lines.slice(-3).join(' | ');

/** Resolves with the command's output (stdout and stderr); rejects with one line naming the command, its exit and `detail`. */
export function runCommand(cmd: string, args: string[], options: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' ? new Error(`${cmd} not found on PATH`) : err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(out);
      const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
      const detail = (options.detail ?? lastLines)(lines);
      reject(new Error(`${path.basename(cmd)} ${args[0] ?? ''} exited with ${signal ?? `code ${code}`}${detail ? `: ${detail}` : ''}`));
    });
  });
}
