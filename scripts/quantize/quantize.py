"""Makes model_int8.onnx from the verified fp32 model.onnx with onnxruntime's own dynamic quantizer.

Run by `npm run model:fetch` (src/model/sources/quantize.ts) in the venv of requirements.txt beside this file:

    python quantize.py --input models/all-MiniLM-L6-v2/model.onnx --output model_int8.onnx

The recipe, chosen by measurement (docs/MODEL.md, "int8"): the weights of the MatMul nodes listed in QUANTIZED are
quantized to int8 per output channel; their activations are quantized to uint8 per tensor at run time
(onnxruntime fuses each into DynamicQuantizeMatMul / MatMulIntegerToFloat). Every other MatMul stays fp32: they are the
ones that cost the most accuracy per unit of arithmetic saved. The attention-score MatMuls (activation × activation),
the embeddings (Gather) and everything outside MatMul are never quantized.

The output is a pure function of the input bytes and this file (numpy rounding, no randomness, no calibration data), so
its sha256 is pinned in models/manifest.json; a change here changes that digest, and the manifest must follow.
"""

import argparse
import logging

import onnx

from onnxruntime.quantization import QuantType, quantize_dynamic

LAYERS = 6
# Measured one node at a time on the reference fixture (docs/MODEL.md, "int8"): quantizing a layer's query, key and
# attention output costs almost nothing (0.0003 off the median cosine for all six layers together); the value
# projection and the feed-forward MatMuls of the first layers cost most. These 24 of the 36 weight MatMuls (58% of their
# arithmetic) keep every reference text at cosine >= 0.99 to fp32 and the median at >= 0.998.
EVERY_LAYER = ['attention/self/query', 'attention/self/key', 'attention/output/dense']
FEED_FORWARD = [(0, 'intermediate/dense'), (2, 'intermediate/dense'), (5, 'intermediate/dense'),
                (3, 'output/dense'), (4, 'output/dense'), (5, 'output/dense')]


def matmul(layer: int, part: str) -> str:
    return f'/encoder/layer.{layer}/{part}/MatMul'


QUANTIZED = [matmul(i, p) for i in range(LAYERS) for p in EVERY_LAYER] + [matmul(i, p) for i, p in FEED_FORWARD]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--input', required=True, help='the verified fp32 graph (model.onnx)')
    parser.add_argument('--output', required=True, help='where to write the int8 graph')
    args = parser.parse_args()
    # The quantizer warns that no pre-processing ran: shape inference is all it would add here, and it runs its own.
    logging.getLogger().setLevel(logging.ERROR)
    # Handed over loaded, not by path: given a path, the quantizer writes its shape-inferred copy beside the input.
    quantize_dynamic(
        onnx.load(args.input),
        args.output,
        op_types_to_quantize=['MatMul', 'Gemm'],
        per_channel=True,
        reduce_range=False,
        weight_type=QuantType.QInt8,
        nodes_to_quantize=QUANTIZED,
        extra_options={'MatMulConstBOnly': True},
    )
    print(f'quantized {len(QUANTIZED)} MatMul nodes: {args.output}')


if __name__ == '__main__':
    main()
