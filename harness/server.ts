import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../src/model/files.js';

export interface RunningServer {
  url: string;
  proc: ChildProcess;
  /** Every line the server wrote to stdout so far (pino JSON). */
  logs: string[];
  stderr: () => string;
  waitReady(): Promise<void>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * For measurements and tests of the model's own work: with the embedding cache on (the default), a request repeated
 * by a load driver or a benchmark pass would be answered from the cache without reaching the workers.
 */
export const UNCACHED = { EMBEDDING_CACHE: 'off' } as const;

export const SERVER_ENTRY = path.join(projectRoot(), 'dist', 'src', 'server.js');

export interface StartOptions {
  /** Rewrites the command line, e.g. to start the server inside a memory cgroup (harness/cgroup.ts `wrap`). */
  wrap?: (argv: string[]) => string[];
}

/** Starts the real server as a child process on an ephemeral loopback port. */
export async function startServer(env: Record<string, string> = {}, options: StartOptions = {}): Promise<RunningServer> {
  const [command, ...args] = (options.wrap ?? ((argv) => argv))([process.execPath, SERVER_ENTRY]);
  const proc = spawn(command!, args, {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(proc, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      logs.push(line);
      try {
        const entry = JSON.parse(line) as { url?: string };
        if (entry.url) resolve(entry.url);
      } catch {
        // not a log line
      }
    });
    exited.then(([code]) => reject(new Error(`server exited with ${code} before listening:\n${stderr}`)));
  });
  return {
    url,
    proc,
    logs,
    stderr: () => stderr,
    async waitReady() {
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${stderr}`);
        const res = await fetch(`${url}/health`).catch(() => undefined);
        if (res?.status === 200) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** Runs the server entry and waits for it to exit, for start-up failures. */
export async function runServerToExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, [SERVER_ENTRY], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = await once(proc, 'exit');
  return { code: code as number | null, stderr };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return readResponse(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

/**
 * POSTs a body the server may answer before reading it (a refusal by size or memory). fetch (undici)
 * can fail with "other side closed" when the answer and the closed socket arrive mid-upload, which a
 * loaded machine makes likely; node:http hands over the response as soon as it arrives, and a write
 * error after that is the expected end of the upload, not a failure.
 */
export function postRefusable(url: string, body: unknown, headers: Record<string, string> = {}): ReturnType<typeof readResponse> {
  const payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    let answered = false;
    // A connection of its own (no keep-alive agent): with the shared agent, an answer that ends before the upload does
    // hands the socket back to the pool with the upload's last write still in flight, and that write's ECONNRESET
    // then reaches no listener (an uncaught exception in whatever test runs next).
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': payload.length, ...headers } }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) responseHeaders.set(name, String(value));
        void readResponse(new Response(Buffer.concat(parts), { status: res.statusCode!, headers: responseHeaders })).then(resolve, reject);
      });
    });
    const failed = (err: Error) => {
      if (!answered) reject(err);
    };
    req.on('error', failed);
    req.on('socket', (socket) => socket.on('error', failed));
    req.end(payload);
  });
}

/** Status, headers, raw text and (when it parses) JSON of a response. */
export async function readResponse(res: Response) {
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}
