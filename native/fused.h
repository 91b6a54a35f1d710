// trirl native fused kernels for inference forwards (no gradient tape): each replaces a chain of
// tfjs-wasm kernels and repeats their float operations one by one, in the same order, so the
// result is bit-identical to the chain (tested against it in test/model/fused.test.ts).
#pragma once
#include <cstddef>

namespace trirl {

// y = x · rsqrt(mean(x², last axis) + eps) · w over `rows` rows of `cols` floats (model/qwen.ts rmsNorm).
void rmsNormRows(const float* x, const float* w, float* y, size_t rows, size_t cols, float eps);

// One attention input's heads: x [B, T, n, D] (a linear's output) → y [B, n, T, D], with on the
// way, when given, a per-head RMSNorm (normW [D], Qwen3's q/k norm), rotate_half RoPE (cos, sin:
// [B, T, D]) and a scale (q's 1/√D; 1 = none).
struct HeadsArgs {
  const float* x; const float* normW; const float* cos; const float* sin; float* y;
  int b, t, n, d;
  float eps, scale;
};
void attentionHeads(const HeadsArgs& h);

}  // namespace trirl
