"""Makes model_int8.onnx from the verified fp32 model.onnx: every weight MatMul in int8, activations quantized per token.

Run by `npm run model:fetch` (src/model/sources/quantize.ts) in the venv of requirements.txt beside this file:

    python quantize.py --input models/all-MiniLM-L6-v2/model.onnx --output model_int8.onnx

The recipe, chosen by measurement (docs/MODEL.md, "int8"): each of the 36 weight MatMuls becomes onnxruntime's
MatMulIntegerToFloat over int8 weights, quantized symmetrically per output channel, and uint8 activations quantized
symmetrically per token (one scale per row: the row's largest magnitude over 127, zero point 128) by QuantizeLinear
at run time; the product is scaled back by the row's scale. Inputs that come out of a LayerNorm are first divided per
channel by power-of-two SmoothQuant factors (the weights' rows multiplied by the same; see Rewriter.smoothing).
onnxruntime's own quantizer (quantize_dynamic) quantizes activations per tensor, one scale for the whole batch: a few
large values in one token (BERT's [CLS] and [SEP] carry them) then crush every other token's resolution, which put 34
of the 80 reference texts below cosine 0.99 with every MatMul quantized; per token, 6 were (the empty text, whitespace,
a lone punctuation mark), and with the smoothing none is. Per-token scales also make a text's int8 arithmetic
independent of the other texts in its batch. The attention-score MatMuls (activation x activation), the embeddings
(Gather), softmax, LayerNorm and GELU stay fp32.

The output is a pure function of the input bytes and this file (numpy rounding; calibration on seeded random word
pieces, in float64, rounded to powers of two: no corpus and no dependence on the CPU), so its sha256 is pinned in
models/manifest.json; a change here changes that digest, and the manifest must follow. The
graph is run once by onnxruntime before it is written, so a recipe the runtime cannot load fails here, not at start.
"""

import argparse

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

MS = 'com.microsoft'
LAYERS, HEADS = 6, 12
# SmoothQuant's migration strength: half of each input channel's range moves into the weights.
ALPHA = 0.5


def calibration_inputs() -> list[np.ndarray]:
    """Token ids to measure activation ranges on: the empty text ([CLS] [SEP]) and random word pieces of several
    lengths, from a seeded generator (PCG64: the same ids everywhere). No text from any corpus or test fixture."""
    rng = np.random.default_rng(0)
    return [np.array([101, 102])] + [np.concatenate([[101], rng.integers(1000, 30000, n), [102]]) for n in (1, 3, 8, 16, 32, 64, 128, 254)]


class Forward64:
    """BERT's forward pass in float64 numpy, for calibration only: float64 makes the measured ranges the same on every
    CPU to far below the power-of-two rounding they go through, so the output graph's bytes do not depend on the
    machine (an fp32 onnxruntime pass differs by CPU in its last bits)."""

    def __init__(self, weights: dict[str, np.ndarray], matmul_weight: dict[str, str]):
        self.p = {k: v.astype(np.float64) for k, v in weights.items()}
        self.w = lambda node: self.p[matmul_weight[node]]

    def norm(self, x: np.ndarray, name: str) -> np.ndarray:
        x = x - x.mean(-1, keepdims=True)
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-12) * self.p[f'{name}.weight'] + self.p[f'{name}.bias']

    def dense(self, x: np.ndarray, layer: int, part: str) -> np.ndarray:
        return x @ self.w(f'/encoder/layer.{layer}/{part}/MatMul') + self.p[f'encoder.layer.{layer}.{part.replace("/", ".")}.bias']

    def ranges(self, ids: np.ndarray) -> dict[tuple[int, str], np.ndarray]:
        """Each LayerNorm-fed MatMul input's largest magnitude per channel: (layer, 'attention' | 'intermediate')."""
        p, out = self.p, {}
        x = self.norm(p['embeddings.word_embeddings.weight'][ids] + p['embeddings.position_embeddings.weight'][: len(ids)]
                      + p['embeddings.token_type_embeddings.weight'][0], 'embeddings.LayerNorm')
        for i in range(LAYERS):
            out[i, 'attention'] = np.abs(x).max(0)
            q, k, v = (self.dense(x, i, f'attention/self/{t}').reshape(len(ids), HEADS, -1).transpose(1, 0, 2) for t in ('query', 'key', 'value'))
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
            probs = np.exp(scores - scores.max(-1, keepdims=True))
            context = (probs / probs.sum(-1, keepdims=True) @ v).transpose(1, 0, 2).reshape(len(ids), -1)
            x = self.norm(self.dense(context, i, 'attention/output/dense') + x, f'encoder.layer.{i}.attention.output.LayerNorm')
            out[i, 'intermediate'] = np.abs(x).max(0)
            h = self.dense(x, i, 'intermediate/dense')
            h = 0.5 * h * (1 + np.tanh(0.7978845608028654 * (h + 0.044715 * h ** 3)))  # GELU, tanh form: close enough to measure a range
            x = self.norm(self.dense(h, i, 'output/dense') + x, f'encoder.layer.{i}.output.LayerNorm')
        return out


def quantize_weight(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 weights and their fp32 scales, symmetric per output channel (column): w ~ q * scale."""
    scale = np.maximum(np.abs(w).max(axis=0), np.float32(1e-12)) / np.float32(127)
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


class Rewriter:
    """Replaces the weight MatMuls of a graph; names of what it adds derive from the tensors they replace."""

    def __init__(self, model: onnx.ModelProto):
        self.model = model
        self.graph = model.graph
        self.weights = {t.name: t for t in self.graph.initializer}

    def constant(self, name: str, value: np.ndarray) -> str:
        self.graph.initializer.append(numpy_helper.from_array(value, name))
        return name

    def quantizer(self, x: str, k: int, smoothing: np.ndarray | None) -> list[onnx.NodeProto]:
        """x ([batch, tokens, k]), divided by its smoothing factors if any, to uint8 rows, each with its own scale:
        `{x}/int8/q` ([rows, k]) and `{x}/int8/scale`."""
        n = lambda s: f'{x}/int8/{s}'  # noqa: E731
        node = lambda op, ins, out, **kw: helper.make_node(op, ins, [n(out)], name=n(out), **kw)  # noqa: E731
        smooth = [] if smoothing is None else [node('Mul', [x, self.constant(n('inverse_smoothing'), (1 / smoothing).astype(np.float32))], 'smoothed')]
        source = x if smoothing is None else n('smoothed')
        return smooth + [
            node('Abs', [source], 'abs'),
            node('ReduceMax', [n('abs')], 'absmax', axes=[-1], keepdims=1),
            # An all-zero row would divide by zero: its scale is tiny instead, and its quantized values are all 128.
            node('Max', [n('absmax'), 'int8/tiny'], 'absmax_nonzero'),
            node('Div', [n('absmax_nonzero'), 'int8/127'], 'scale'),
            node('Reshape', [n('scale'), 'int8/flat'], 'row_scale'),
            node('Shape', [n('row_scale')], 'rows'),
            node('ConstantOfShape', [n('rows')], 'row_zero_point', value=numpy_helper.from_array(np.array([128], np.uint8))),
            node('Reshape', [source, self.constant(n('row_shape'), np.array([-1, k], np.int64))], 'rows_2d'),
            node('QuantizeLinear', [n('rows_2d'), n('row_scale'), n('row_zero_point')], 'q', axis=0, domain=MS),
            node('Shape', [x], 'shape'),
            node('Slice', [n('shape'), 'int8/0', 'int8/-1'], 'leading'),
        ]

    def matmul(self, mm: onnx.NodeProto, smoothing: np.ndarray | None) -> list[onnx.NodeProto]:
        """The int8 product of the quantized rows of mm's input and its weights (times the input's smoothing factors,
        a power of two each: exact), as [batch, tokens, n] in fp32."""
        x, w = mm.input[0], numpy_helper.to_array(self.weights[mm.input[1]])
        q, scale = quantize_weight(w if smoothing is None else w * smoothing[:, None].astype(np.float32))
        m = lambda s: f'{mm.name}/int8/{s}'  # noqa: E731
        node = lambda op, ins, out, **kw: helper.make_node(op, ins, [out], name=out, **kw)  # noqa: E731
        return [
            node('MatMulIntegerToFloat',
                 [f'{x}/int8/q', self.constant(m('weight'), q), 'int8/1', self.constant(m('weight_scale'), scale), 'int8/128'],
                 m('product_2d'), domain=MS),
            node('Concat', [f'{x}/int8/leading', self.constant(m('columns'), np.array([w.shape[1]], np.int64))], m('shape'), axis=0),
            node('Reshape', [m('product_2d'), m('shape')], m('product')),
            node('Mul', [m('product'), f'{x}/int8/scale'], mm.output[0]),
        ]

    def smoothing(self, groups: dict[str, list[onnx.NodeProto]]) -> dict[str, np.ndarray]:
        """SmoothQuant's per-channel factors for the inputs that come out of a LayerNorm (query/key/value and the first
        feed-forward layer): a few channels of the residual stream are far larger than the rest, and dividing each
        channel by its factor (the weights' rows multiplied by it) evens them out before the per-token quantizer. The
        factor is range^ALPHA / weight range^(1 - ALPHA), measured on calibration_inputs() and rounded to a power of
        two. (Smoothing the attention output and second feed-forward inputs too measured about the same at ALPHA 0.5 and
        worse at 0.7: docs/MODEL.md.)"""
        names = {mm.name: mm.input[1] for mms in groups.values() for mm in mms}
        forward = Forward64({k: numpy_helper.to_array(t) for k, t in self.weights.items()}, names)
        ranges: dict[tuple[int, str], np.ndarray] = {}
        for ids in calibration_inputs():
            for key, r in forward.ranges(ids).items():
                ranges[key] = np.maximum(ranges.get(key, 0), r)
        factors = {}
        for x, mms in groups.items():
            first = mms[0].name
            layer = int(first.split('layer.')[1].split('/')[0])
            kind = 'attention' if '/attention/self/' in first else 'intermediate' if '/intermediate/' in first else None
            if kind is None:
                continue
            weight_range = np.max([np.abs(numpy_helper.to_array(self.weights[mm.input[1]])).max(axis=1) for mm in mms], axis=0).astype(np.float64)
            s = np.maximum(ranges[layer, kind], 1e-5) ** ALPHA / np.maximum(weight_range, 1e-5) ** (1 - ALPHA)
            factors[x] = 2.0 ** np.round(np.log2(s))
        return factors

    def run(self) -> int:
        for name, value in [('tiny', np.float32(1e-12)), ('127', np.float32(127)), ('1', np.float32(1)), ('128', np.uint8(128)),
                            ('flat', np.array([-1], np.int64)), ('0', np.array([0], np.int64)), ('-1', np.array([-1], np.int64))]:
            self.constant(f'int8/{name}', np.array(value))
        targets = [n for n in self.graph.node if n.op_type == 'MatMul' and n.input[1] in self.weights]
        # One quantizer per activation: the query, key and value projections share theirs.
        groups: dict[str, list[onnx.NodeProto]] = {}
        for mm in targets:
            groups.setdefault(mm.input[0], []).append(mm)
        smoothing = self.smoothing(groups)
        replaced = {mm.name: self.matmul(mm, smoothing.get(mm.input[0])) for mm in targets}
        nodes = []
        for node in self.graph.node:
            nodes.extend(replaced.get(node.name, [node]))
            for out in node.output:
                if out in groups:
                    nodes.extend(self.quantizer(out, self.weights[groups[out][0].input[1]].dims[0], smoothing.get(out)))
        del self.graph.node[:]
        self.graph.node.extend(nodes)
        used = {i for node in self.graph.node for i in node.input}
        kept = [t for t in self.graph.initializer if t.name in used]
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept)
        self.model.opset_import.append(helper.make_opsetid(MS, 1))
        return len(targets)


def check(model: bytes, reference: bytes) -> None:
    """Runs both graphs on one short input: the int8 one must load and stay close to fp32."""
    feed = {'input_ids': np.array([[101, 7592, 2088, 102]], np.int64)}
    feed['attention_mask'] = np.ones_like(feed['input_ids'])
    feed['token_type_ids'] = np.zeros_like(feed['input_ids'])
    a, b = (ort.InferenceSession(g, providers=['CPUExecutionProvider']).run(None, feed)[0].mean(axis=1)[0] for g in (model, reference))
    cosine = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    if cosine < 0.99:
        raise SystemExit(f'int8 graph strays from fp32: cosine {cosine:.4f} on the check input')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--input', required=True, help='the verified fp32 graph (model.onnx)')
    parser.add_argument('--output', required=True, help='where to write the int8 graph')
    args = parser.parse_args()
    model = onnx.load(args.input)
    reference = model.SerializeToString()
    count = Rewriter(model).run()
    onnx.checker.check_model(model)
    out = model.SerializeToString()
    check(out, reference)
    with open(args.output, 'wb') as f:
        f.write(out)
    print(f'quantized {count} MatMul nodes, activations per token: {args.output}')


if __name__ == '__main__':
    main()
