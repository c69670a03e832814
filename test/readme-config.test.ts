import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { configTable, VARIABLES } from '../src/config.js';
import { projectRoot } from '../src/model/files.js';
import { QUEUE_END, QUEUE_START, readmeTable } from '../scripts/readme-config.js';

const readme = readFileSync(path.join(projectRoot(), 'README.md'), 'utf8');

test('README.md shows the configuration table generated from src/config.ts (npm run docs:config rewrites it)', (t) => {
  t.is(readmeTable(readme), configTable());
});

test("docs/QUEUE.md shows the queue's EMBEDDING_NATS_* table generated from src/config.ts", (t) => {
  const queue = readFileSync(path.join(projectRoot(), 'docs', 'QUEUE.md'), 'utf8');
  t.is(readmeTable(queue, QUEUE_START, QUEUE_END), configTable('queue'));
});

test('the Dockerfile and compose file restate no default', (t) => {
  for (const file of ['Dockerfile', 'docker-compose.yml']) {
    const text = readFileSync(path.join(projectRoot(), file), 'utf8');
    for (const name of Object.keys(VARIABLES)) {
      const def = (VARIABLES[name as keyof typeof VARIABLES].schema as { def: { type: string; defaultValue?: unknown } }).def;
      if (def.type !== 'default') continue;
      const restated = new RegExp(`\\b${name}\\b["']?\\s*[:=]\\s*["']?${String(def.defaultValue).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*$`, 'm');
      t.false(restated.test(text), `${file} restates ${name}=${String(def.defaultValue)}`);
    }
  }
});
