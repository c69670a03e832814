/**
 * sentence-transformers' Pooling(mean) + Normalize over a padded batch: the mean of the last hidden
 * state over real (attention-masked) tokens, then L2 normalisation. Sums run in float64 so the result
 * is at least as exact as PyTorch's float32 reference.
 */
export function meanPoolNormalize(
  hidden: Float32Array,
  lengths: ArrayLike<number>,
  paddedLength: number,
  dims: number,
  out: Float32Array,
): void {
  const acc = new Float64Array(dims);
  for (let row = 0; row < lengths.length; row++) {
    const length = lengths[row]!;
    acc.fill(0);
    const base = row * paddedLength * dims;
    for (let t = 0; t < length; t++) {
      const offset = base + t * dims;
      for (let d = 0; d < dims; d++) acc[d]! += hidden[offset + d]!;
    }
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      acc[d]! /= length;
      norm += acc[d]! * acc[d]!;
    }
    // torch.nn.functional.normalize divides by max(norm, 1e-12).
    const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    const target = row * dims;
    for (let d = 0; d < dims; d++) out[target + d] = acc[d]! * scale;
  }
}
