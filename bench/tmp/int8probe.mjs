import ort from 'onnxruntime-node';
import fs from 'node:fs';
import { ModelTokenizer } from '/work/main/dist/src/core/tokenizer.js';
import { meanPoolNormalize } from '/work/main/dist/src/core/pooling.js';
const ref = JSON.parse(fs.readFileSync('/work/main/scripts/reference/reference.json','utf8')).items;
const tok = ModelTokenizer.fromFile('/work/main/models/all-MiniLM-L6-v2/tokenizer.json');
const s = await ort.InferenceSession.create(process.argv[2], {intraOpNumThreads:2, graphOptimizationLevel:'all'});
async function emb(texts){ const enc=texts.map(t=>tok.encode(t)); const T=Math.max(...enc.map(e=>e.ids.length)); const n=texts.length;
 const ids=new BigInt64Array(n*T), m=new BigInt64Array(n*T); enc.forEach((e,r)=>e.ids.forEach((v,i)=>{ids[r*T+i]=BigInt(v);m[r*T+i]=1n}));
 const o=await s.run({input_ids:new ort.Tensor('int64',ids,[n,T]),attention_mask:new ort.Tensor('int64',m,[n,T]),token_type_ids:new ort.Tensor('int64',new BigInt64Array(n*T),[n,T])});
 const out=new Float32Array(n*384); meanPoolNormalize(o.last_hidden_state.data, enc.map(e=>e.ids.length), T, 384, out); return out;}
const cos=(a,b)=>{let d=0;for(let i=0;i<384;i++)d+=a[i]*b[i];return d};
const alone=[]; for (const it of ref){ alone.push(cos((await emb([it.text])), it.embedding)); }
const all = await emb(ref.map(r=>r.text)); const batch = ref.map((it,i)=>cos(all.subarray(i*384,(i+1)*384), it.embedding));
const rows = ref.map((it,i)=>[it.id, alone[i], batch[i]]).sort((a,b)=>a[1]-b[1]);
console.log('min alone', rows[0], 'min batch', Math.min(...batch)); console.log(rows.slice(0,8).map(r=>r.join(' ')).join('\n'));
console.log('below .99 alone', rows.filter(r=>r[1]<0.99).length, 'batch', batch.filter(b=>b<0.99).length);
