// trirl's fused decoder layer for inference forwards (no gradient tape): a Qwen layer in three
// kernels, with tfjs-wasm's Softmax and Sigmoid in between (their exp approximations are XNNPACK's
// and stay where they are). Each part repeats the float operations of the tfjs chain it replaces
// (model/qwen.ts decoderLayer), in the same order, with the same products (gemmBatch: each sum's
// order is fixed by k alone), so the layer is bit-identical to that chain (test/model/fused.test.ts).
#pragma once

namespace trirl {

// y[m, out] = x[m, in] · op(W) (+ bias) (+ ((x · aT) · bT) · scale): qwen.ts linear(). W is
// [out, in] when transW (HF's layout), else [in, out]; aT [in, rank] and bT [rank, out] are LoRA's.
struct LinearW {
  const float* w; const float* bias; const float* aT; const float* bT;
  int in, out, rank;
  bool transW;
  float scale;
};

// Part 1: x [B, T, C] → scores [B, H, T, S] = q · keysᵀ + bias, and the extended cache keys,
// values [B, K, S, D] (S = past + T): input norm, q/k/v linears, their heads (fused.h
// attentionHeads: q/k norm, RoPE, q's scale), the cache concat, the grouped q · kᵀ.
struct AttentionInArgs {
  const float* x; const float* normW; const float* qNorm; const float* kNorm; const float* cos; const float* sin;
  const float* bias; const float* pastK; const float* pastV;
  float* scores; float* keys; float* values;
  LinearW q, k, v;
  int b, t, past, heads, kvHeads, d, threads;
  float eps, qScale;
};
void attentionIn(const AttentionInArgs& a);

// Part 2: probs [B, H, T, S] (softmax of part 1's scores) → h = x + o_proj(probs · values) [B, T, C],
// and the MLP's gate and up [B, T, F] of the post-attention norm of h.
struct AttentionOutArgs {
  const float* probs; const float* values; const float* x; const float* normW;
  float* h; float* gate; float* up;
  LinearW o, gateW, upW;
  int b, t, s, heads, kvHeads, d, threads;
  float eps;
};
void attentionOut(const AttentionOutArgs& a);

// Part 3: y = h + down_proj((gate · sigmoid(gate)) · up), `rows` = B · T rows.
struct MlpOutArgs {
  const float* gate; const float* sig; const float* up; const float* h;
  float* y;
  LinearW down;
  int rows, threads;
};
void mlpOut(const MlpOutArgs& a);

// A LoRA linear for training forwards: y = linear(x) (as linearRows), and its backward for a frozen
// W, each product and sum as tfjs's gradients of the chain compute them (qwen.ts linear, matmul.ts):
// dv = dy · scale; du = dv · bTᵀ; dbT = uᵀ · dv; dx = du · aTᵀ + dy · op(W)ᵀ; daT = xᵀ · du (u = x · aT).
void linearForward(const float* x, int rows, const LinearW& l, float* y, int threads);
void linearBackward(const float* x, const float* dy, int rows, const LinearW& l, float* dx, float* daT, float* dbT, int threads);

}  // namespace trirl
