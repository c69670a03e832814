// Compares the candidate JavaScript tokenizers with the Python reference token ids
// (scripts/reference/reference.json). Run from this folder after:
//   npm init -y && npm i @xenova/transformers@2.17.2 @huggingface/tokenizers@0.2.0 \
//     --no-save  (with "overrides": {"sharp": "^0.34.0"} in package.json)
// Result on 2026-11-25: @huggingface/tokenizers 80/80 identical; @xenova/transformers 76/80
// (differs on cjk-japanese, script-arabic, script-devanagari, long-cjk-japanese).
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { AutoTokenizer, env } from '@xenova/transformers';

const root = path.resolve(import.meta.dirname, '../..');
const ref = JSON.parse(fs.readFileSync(path.join(root, 'scripts/reference/reference.json'), 'utf8'));
const tokenizerJson = JSON.parse(fs.readFileSync(path.join(root, 'models/all-MiniLM-L6-v2/tokenizer.json'), 'utf8'));

const local = fs.mkdtempSync('/tmp/tokenizer-parity-');
fs.mkdirSync(path.join(local, 'm'));
fs.writeFileSync(path.join(local, 'm/tokenizer.json'), JSON.stringify(tokenizerJson));
fs.writeFileSync(path.join(local, 'm/tokenizer_config.json'), JSON.stringify({ do_lower_case: true, model_max_length: 512, tokenizer_class: 'BertTokenizer' }));
env.localModelPath = local + '/';
env.allowRemoteModels = false;
const xenova = await AutoTokenizer.from_pretrained('m');
const hf = new Tokenizer(tokenizerJson, {});

const wrap = (ids) => [101, ...ids.slice(0, 254), 102];
const result = { texts: ref.items.length, huggingface_tokenizers: 0, xenova_transformers: 0, mismatches: [] };
for (const item of ref.items) {
  const expected = JSON.stringify(item.token_ids);
  if (JSON.stringify(wrap(hf.encode(item.text, { add_special_tokens: false }).ids)) === expected) result.huggingface_tokenizers++;
  else result.mismatches.push(['@huggingface/tokenizers', item.id]);
  if (JSON.stringify(wrap(xenova.encode(item.text, null, { add_special_tokens: false }))) === expected) result.xenova_transformers++;
  else result.mismatches.push(['@xenova/transformers', item.id]);
}
console.log(JSON.stringify(result, null, 2));
