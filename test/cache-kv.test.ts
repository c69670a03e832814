import test from 'ava';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { CacheEntry } from '../src/cache/entry.js';
import { cacheKey } from '../src/cache/key.js';
import { KvTier } from '../src/cache/kv-tier.js';
import { stubTokens, stubVector } from '../harness/app.js';
import { startNatsServer, type NatsServer } from '../harness/nats.js';

/**
 * The shared tier on a real nats-server (harness/nats.ts): what one worker stores another reads bit for bit, a
 * damaged value is a counted miss, and a server that goes away leaves lookups answering misses, never throwing.
 * Through two real servers: test/e2e/cache.test.ts.
 */
const DIMS = 384;
const ID = Buffer.alloc(32, 3);
const key = (text: string) => cacheKey(ID, text);
const entry = (text: string): CacheEntry => ({ vector: stubVector(text), ...stubTokens(text) });

let nats: NatsServer;
test.before(async () => {
  nats = await startNatsServer();
});
test.after.always(async () => {
  await nats?.stop();
});

function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, warnings: () => lines.filter((l) => l.level === 40) };
}

const open = (bucket: string, logger = pino({ level: 'silent' })) => KvTier.open({ servers: [nats.url], bucket, maxBytes: 64 * 1024 * 1024, dims: DIMS, logger });

test.serial('what one worker stores, another reads bit for bit; a damaged value is a counted miss', async (t) => {
  const writer = open('cache-shared');
  const reader = open('cache-shared');
  await Promise.all([writer.ready, reader.ready]);
  t.is(writer.stats().up, 1);
  const texts = Array.from({ length: 600 }, (_, i) => `shared ${i}`);
  writer.put(texts.map((text) => ({ key: key(text), entry: entry(text) })));
  await writer.flush();

  const found = await reader.get([...texts, 'never stored'].map(key));
  texts.forEach((text, i) => t.deepEqual(Buffer.from(found[i]!.vector.buffer), Buffer.from(stubVector(text).buffer)));
  t.is(found.at(-1), undefined);
  t.like(reader.stats(), { hits: 600, misses: 1, corrupt: 0 });

  // A value written by something else under a valid key: refused, counted, never served.
  const nc = await connect({ servers: nats.url });
  const raw = await new Kvm(nc).open('cache-shared');
  await raw.put(key('shared 0').toString('hex'), new Uint8Array(1548).fill(7));
  await nc.close();
  t.deepEqual(await reader.get([key('shared 0')]), [undefined]);
  t.like(reader.stats(), { corrupt: 1 });
  await Promise.all([writer.close(), reader.close()]);
});

test.serial('a server that goes away: lookups are misses within the timeout, writes are dropped, one warning; back when it returns', async (t) => {
  const { logger, warnings } = recordingLogger();
  const tier = open('cache-outage', logger);
  await tier.ready;
  tier.put([{ key: key('before'), entry: entry('before') }]);
  await tier.flush();
  await nats.kill();
  const found = await tier.get([key('before'), key('other')]);
  t.deepEqual(found, [undefined, undefined]);
  t.notThrows(() => tier.put([{ key: key('during'), entry: entry('during') }]));
  t.true(warnings().length <= 1);
  await nats.start();
  let back: (CacheEntry | undefined)[] = [];
  for (let i = 0; i < 100 && back[0] === undefined; i++) {
    back = await tier.get([key('before')]);
    if (back[0] === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  t.deepEqual(Buffer.from(back[0]!.vector.buffer), Buffer.from(stubVector('before').buffer));
  await tier.close();
});
