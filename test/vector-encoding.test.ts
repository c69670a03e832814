import test from 'ava';
import fc from 'fast-check';
import { vectorBase64, vectorJson } from '../src/core/vector-encoding.js';

/** What Python's json prints for `tolist()` and JS's String(number) agree on: the shortest round-trip decimal. */
const byString = (v: Float32Array, index: number, dims: number) => `[${Array.from(v.subarray(index * dims, (index + 1) * dims), String).join(',')}]`;

test('vectorJson prints every float as String(number) does, edge values included, and reads back bit for bit', (t) => {
  const edges = new Float32Array([0, -0, 1, -1, 1e-7, 1e-6, 1.5e-45, -1.17549435e-38, 3.4028234e38, 1e21, 0.1, -0.058707095682621, 123456789]);
  t.is(vectorJson(edges, 0, edges.length), byString(edges, 0, edges.length));
  fc.assert(
    fc.property(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 64 }), (floats) => {
      const v = new Float32Array([...floats, ...floats]);
      const json = vectorJson(v, 1, floats.length);
      // -0 prints as 0, as String(-0) does.
      const back = new Float32Array(JSON.parse(json) as number[]);
      return json === byString(v, 1, floats.length) && back.every((x, i) => Object.is(x, v[floats.length + i]) || (x === 0 && v[floats.length + i] === 0));
    }),
  );
});

test('vectorJson keeps vectors of different lengths apart', (t) => {
  const v = new Float32Array([0.25, 0.5, 0.75, 1]);
  t.is(vectorJson(v, 1, 2), '[0.75,1]');
  t.is(vectorJson(v, 0, 4), '[0.25,0.5,0.75,1]');
  t.is(vectorJson(v, 1, 2), '[0.75,1]');
});

test('vectorBase64 is the little-endian float32 bytes', (t) => {
  const v = new Float32Array([1, -2, 0.5]);
  const bytes = Buffer.from(vectorBase64({ vectors: v, dims: 3 }, 0), 'base64');
  t.deepEqual([0, 4, 8].map((at) => bytes.readFloatLE(at)), [1, -2, 0.5]);
});
