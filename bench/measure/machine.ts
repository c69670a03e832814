/** The machine and the versions a run was measured on, for the report's header. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MachineInfo } from '../report/results.js';
import { PY, ROOT, TJS_DIR } from './paths.js';

export function cpuModel(): string {
  // The name alone ("AMD EPYC" under KVM) hides the generation and the vector width, which set the ceiling.
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();
    const flags = new Set((field('flags') ?? '').split(' '));
    const widest = flags.has('avx512f') ? 'AVX-512' : flags.has('avx2') ? 'AVX2 (no AVX-512)' : 'SSE';
    return `${field('model name')} (family ${field('cpu family')} model ${field('model')}, ${widest}, FMA ${flags.has('fma') ? 'yes' : 'no'})`;
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

function version(packageJson: string): string {
  try {
    return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** Python, onnxruntime, FastAPI and tokenizers versions in the Python peer's venv; null without it. */
export function pythonVersions(): string[] | null {
  if (!existsSync(PY)) return null;
  try {
    const code = 'import sys,onnxruntime,fastapi,tokenizers;print(sys.version.split()[0],onnxruntime.__version__,fastapi.__version__,tokenizers.__version__)';
    return execFileSync(PY, ['-c', code], { encoding: 'utf8' }).trim().split(' ');
  } catch {
    return null;
  }
}

/**
 * Share of all cores busy over `ms` before anything starts: what else is running now. The load
 * average cannot tell: it decays over minutes, so work that ended seconds ago still counts.
 */
export async function cpuBusyShare(ms: number): Promise<number | null> {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3]! + f[4]!, total: f.reduce((x, y) => x + y, 0) };
  };
  try {
    const a = read();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const b = read();
    return 1 - (b.idle - a.idle) / (b.total - a.total);
  } catch {
    return null;
  }
}

/**
 * fp32 matrix-multiply speed of one core (numpy's OpenBLAS, one thread): the yardstick for what
 * fraction of the hardware the ceiling reaches, and for the least time a short chunk can take.
 */
function gemmGflopsPerCore(): number | null {
  const code =
    'import numpy as n,time,json\na=n.random.rand(1024,1024).astype(n.float32);b=n.random.rand(1024,1024).astype(n.float32)\nbest=1e9\nfor _ in range(8):\n t=time.perf_counter();a@b;best=min(best,time.perf_counter()-t)\nprint(json.dumps(2*1024**3/best/1e9))';
  try {
    const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    return Number(execFileSync(PY, ['-c', code], { encoding: 'utf8', env }).trim());
  } catch {
    return null;
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    ort: version(path.join(ROOT, 'node_modules/onnxruntime-node/package.json')),
    transformersjs: version(path.join(TJS_DIR, 'node_modules/@xenova/transformers/package.json')),
    tjsOrt: version(path.join(TJS_DIR, 'node_modules/onnxruntime-node/package.json')),
    python: pythonVersions(),
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    busyAtStart: await cpuBusyShare(3000),
    gemmGflopsPerCore: gemmGflopsPerCore(),
  };
}
