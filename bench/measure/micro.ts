/** Two small measurements beside the service: the bare HTTP round trip and the cost of JSON vectors. */
import { vectorJson } from '../../src/core/vector-encoding.js';
import { idleLatency, startChild } from '../lib/http.js';
import { SHORT_TEXT } from '../lib/mix.js';

/**
 * The floor under any HTTP answer on this machine: a bare node:http server that answers at once,
 * driven by the same client as the idle short-chunk latency.
 */
export async function httpFloorP50(iterations: number): Promise<number> {
  const code = "require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => { r.setHeader('content-type', 'application/json'); r.end('{}'); }); }).listen(Number(process.env.PORT), '127.0.0.1')";
  const s = await startChild(process.execPath, ['-e', code], { healthPath: '/' });
  try {
    return await idleLatency(s.url, SHORT_TEXT, iterations);
  } finally {
    await s.stop();
  }
}

/** JSON serialisation: ms the route's float formatter takes per 384-float vector, over half a second. */
export function vectorJsonMs(): number {
  const v = new Float32Array(384 * 256).map((_, i) => Math.sin(i * 12.9898) * 0.1);
  for (let i = 0; i < 256; i++) vectorJson(v, i, 384);
  const s = performance.now();
  let n = 0;
  while (performance.now() - s < 500) for (let i = 0; i < 256; i++, n++) vectorJson(v, i, 384);
  return (performance.now() - s) / n;
}
