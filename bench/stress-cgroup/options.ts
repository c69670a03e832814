/** Command-line flags of `npm run stress:cgroup`; the defaults finish all three scenarios in about 25 minutes on 2 cores. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/model/files.js';

export interface StressOptions {
  only: Set<'a' | 'b' | 'c'>;
  /** Scenario a: JSON requests of `request` chunks, `parallel` at a time, `aChunks` in all, cut after `aMinutes`. */
  aLimitMiB: number;
  aChunks: number;
  aMinutes: number;
  request: number;
  parallel: number;
  /** Scenario b: one request of `bChunks` answered as NDJSON, read for `bMinutes`; its body streamed as NDJSON or sent as one JSON document. */
  bLimitMiB: number;
  bBody: 'ndjson' | 'json';
  bChunks: number;
  bMinutes: number;
  /** Scenario c: load as in a under `cFromMiB`, lowered to `cToMiB` after `cLowerAfterS`. */
  cFromMiB: number;
  cToMiB: number;
  cLowerAfterS: number;
  cChunks: number;
  cMinutes: number;
  /**
   * Small requests, in every scenario: 1–`smallMax` chunks of at most `smallLines` lines, one every `smallEveryMs` in b and every
   * `probeEveryMs` in a and c (there they only probe latency: at b's rate they alone keep both cores busy and starve the large requests).
   */
  smallEveryMs: number;
  probeEveryMs: number;
  smallMax: number;
  smallLines: number;
  /** A small request is given up after this long (anything over 30 s already breaks the promise). */
  smallTimeoutS: number;
  sampleMs: number;
  out: string;
  /** Re-render a saved run instead of measuring. */
  render: string | undefined;
}

export function parseOptions(argv: string[]): StressOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', default: 'a,b,c' },
      'a-limit-mib': { type: 'string', default: '768' },
      'a-chunks': { type: 'string', default: '8000' },
      'a-minutes': { type: 'string', default: '8' },
      request: { type: 'string', default: '2000' },
      parallel: { type: 'string', default: '4' },
      'b-limit-mib': { type: 'string', default: '768' },
      'b-chunks': { type: 'string', default: '50000' },
      'b-body': { type: 'string', default: 'ndjson' },
      'b-minutes': { type: 'string', default: '6' },
      'c-from-mib': { type: 'string', default: '2048' },
      'c-to-mib': { type: 'string', default: '900' },
      'c-lower-after-s': { type: 'string', default: '120' },
      'c-chunks': { type: 'string', default: '8000' },
      'c-minutes': { type: 'string', default: '8' },
      'small-every-ms': { type: 'string', default: '200' },
      'probe-every-ms': { type: 'string', default: '1000' },
      'small-max': { type: 'string', default: '10' },
      'small-lines': { type: 'string', default: '8' },
      'small-timeout-s': { type: 'string', default: '60' },
      'sample-ms': { type: 'string', default: '500' },
      out: { type: 'string', default: path.join(projectRoot(), '.scratch', 'stress-cgroup', 'last-run.json') },
      render: { type: 'string' },
    },
  });
  const num = (name: keyof typeof values) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not ${values[name]}`);
    return n;
  };
  const body = (value: string) => {
    if (value !== 'ndjson' && value !== 'json') throw new Error(`--b-body takes ndjson or json, not ${value}`);
    return value;
  };
  const only = new Set(String(values.only).split(',').map((s) => s.trim()));
  for (const key of only) if (!['a', 'b', 'c'].includes(key)) throw new Error(`--only takes a, b and c, not ${key}`);
  return {
    only: only as Set<'a' | 'b' | 'c'>,
    aLimitMiB: num('a-limit-mib'),
    aChunks: num('a-chunks'),
    aMinutes: num('a-minutes'),
    request: num('request'),
    parallel: num('parallel'),
    bLimitMiB: num('b-limit-mib'),
    bBody: body(String(values['b-body'])),
    bChunks: num('b-chunks'),
    bMinutes: num('b-minutes'),
    cFromMiB: num('c-from-mib'),
    cToMiB: num('c-to-mib'),
    cLowerAfterS: num('c-lower-after-s'),
    cChunks: num('c-chunks'),
    cMinutes: num('c-minutes'),
    smallEveryMs: num('small-every-ms'),
    probeEveryMs: num('probe-every-ms'),
    smallMax: num('small-max'),
    smallLines: num('small-lines'),
    smallTimeoutS: num('small-timeout-s'),
    sampleMs: num('sample-ms'),
    out: String(values.out),
    render: values.render,
  };
}
