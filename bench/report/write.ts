/** Putting a rendered section into BENCHMARKS.md (or on stdout), from a fresh run or from bench/.last-run.json. */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { buildCorpus } from '../../harness/corpus.js';
import { requestMix } from '../lib/mix.js';
import { renderSection } from './render.js';
import { pickBest, type BenchResults } from './results.js';

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** Replaces what lies between the markers in `file` (appends the block when they are missing); the rest is left alone. */
export function writeSection(file: string, body: string): void {
  const block = `${START}\n${body.trim()}\n${END}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a !== -1 && b > a) text = text.slice(0, a) + block + text.slice(b + END.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}

export interface ReportTarget {
  /** Write into `out`; print the section on stdout otherwise. */
  write: boolean;
  out: string;
}

export function writeReport(results: BenchResults, target: ReportTarget): void {
  const section = renderSection(results);
  if (target.write) {
    writeSection(target.out, section);
    process.stderr.write(`wrote ${target.out}\n`);
  } else process.stdout.write(section);
}

/** Renders a saved run, filling in what runs saved before these fields existed did not record. */
export function renderSavedRun(file: string, target: ReportTarget): void {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  const r: BenchResults = {
    ...saved,
    best: pickBest(saved.layouts),
    command: saved.command ?? 'npm run bench',
    quick: saved.quick ?? false,
    requests: saved.requests ?? requestMix(buildCorpus(saved.params.size)).length,
    finishedAt: saved.finishedAt ?? statSync(file).mtime.toISOString(),
  };
  writeReport(r, target);
}
