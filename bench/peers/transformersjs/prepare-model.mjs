/**
 * Lays out the service's model files the way transformers.js expects a Hugging Face model folder,
 * so the pipeline runs offline: model/all-MiniLM-L6-v2/{config.json, tokenizer_config.json,
 * tokenizer.json, onnx/model.onnx, onnx/model_quantized.onnx}. The graphs and tokenizer are symlinks
 * to models/all-MiniLM-L6-v2; the two small configs are written here (the values of the Hub repo's,
 * except model_max_length: 256, sentence-transformers' max_seq_length, so both sides do the same work).
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const source = join(here, '../../../models/all-MiniLM-L6-v2');
export const MODEL_ROOT = join(here, 'model');
export const MODEL_NAME = 'all-MiniLM-L6-v2';
const dir = join(MODEL_ROOT, MODEL_NAME);

export function prepareModel() {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify(
      {
        model_type: 'bert',
        architectures: ['BertModel'],
        hidden_size: 384,
        num_hidden_layers: 6,
        num_attention_heads: 12,
        intermediate_size: 1536,
        hidden_act: 'gelu',
        max_position_embeddings: 512,
        type_vocab_size: 2,
        vocab_size: 30522,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify(
      {
        tokenizer_class: 'BertTokenizer',
        do_lower_case: true,
        do_basic_tokenize: true,
        tokenize_chinese_chars: true,
        strip_accents: null,
        model_max_length: 256,
        cls_token: '[CLS]',
        sep_token: '[SEP]',
        pad_token: '[PAD]',
        unk_token: '[UNK]',
        mask_token: '[MASK]',
      },
      null,
      2,
    ),
  );
  for (const [link, target] of [
    ['tokenizer.json', 'tokenizer.json'],
    ['onnx/model.onnx', 'model.onnx'],
    ['onnx/model_quantized.onnx', 'model_int8.onnx'],
  ]) {
    const path = join(dir, link);
    rmSync(path, { force: true });
    symlinkSync(join(source, target), path);
  }
  if (!existsSync(join(dir, 'onnx/model.onnx'))) throw new Error(`no model at ${source}: run npm run model:fetch`);
  return dir;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(`transformers.js model folder: ${prepareModel()}`);
