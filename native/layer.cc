// The fused decoder layer (layer.h). Scalar elementwise code on purpose, compiled with
// -ffp-contract=off: each line is one rounded float operation of the tfjs chain (Add, Mul,
// Concat, Transpose are exact copies or single roundings), and the products go through the same
// gemmBatch as tfjs's BatchMatMul, with the same shapes and transpose flags.
#include "layer.h"

#include <cstring>
#include <vector>

#include "fused.h"
#include "sgemm.h"

namespace trirl {
namespace {

// Scratch reused across calls (one set per JS thread): a fresh allocation per call costs page faults.
struct Scratch { std::vector<float> xn, yq, yk, yv, q, kNew, vNew, ctx, loraA, loraB, dv, du, dxBase; };
Scratch& scratch() {
  static thread_local Scratch s;
  return s;
}

// Buffers past 16 MB are released after each call (a 0.5 B prefill or training pass would keep
// ≈ 100 MB each, outside the wasm heap); smaller ones stay for the next call.
void trim() {
  Scratch& s = scratch();
  for (std::vector<float>* v : {&s.xn, &s.yq, &s.yk, &s.yv, &s.q, &s.kNew, &s.vNew, &s.ctx, &s.loraA, &s.loraB, &s.dv, &s.du, &s.dxBase})
    if (v->capacity() > (16u << 20) / sizeof(float)) std::vector<float>().swap(*v);
}

float* sized(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

void gemm(const float* a, const float* b, float* c, int m, int n, int k, bool transB, int threads, bool transA = false) {
  const Gemm g{a, b, c, m, n, k, transA, transB};
  gemmBatch(&g, 1, threads);
}

// qwen.ts linear(): y = x·W, then y + bias, then y + ((x·aT)·bT)·scale, each rounded as tfjs does.
void linearRows(const float* x, int m, const LinearW& l, float* y, int threads) {
  gemm(x, l.w, y, m, l.out, l.in, l.transW, threads);
  const size_t n = (size_t)m * l.out;
  if (l.bias)  // row by row: an index modulo the width kept this loop from vectorising
    for (int r = 0; r < m; r++) {
      float* yr = y + (size_t)r * l.out;
      for (int j = 0; j < l.out; j++) yr[j] = yr[j] + l.bias[j];
    }
  if (!l.aT) return;
  Scratch& s = scratch();
  float* xa = sized(s.loraA, (size_t)m * l.rank);
  float* t = sized(s.loraB, n);
  gemm(x, l.aT, xa, m, l.rank, l.in, false, threads);
  gemm(xa, l.bT, t, m, l.out, l.rank, false, threads);
  for (size_t i = 0; i < n; i++) {
    const float scaled = t[i] * l.scale;
    y[i] = y[i] + scaled;
  }
}

// dst [B, K, past + T, D] = concat(past [B, K, past, D], fresh [B, K, T, D]) on the time axis.
void concatTime(const float* past, const float* fresh, float* dst, int bk, int pastLen, int t, int d) {
  const size_t pastRun = (size_t)pastLen * d, freshRun = (size_t)t * d;
  for (int i = 0; i < bk; i++) {
    float* out = dst + i * (pastRun + freshRun);
    if (pastLen) std::memcpy(out, past + i * pastRun, pastRun * sizeof(float));
    std::memcpy(out + pastRun, fresh + i * freshRun, freshRun * sizeof(float));
  }
}

// Products over each (batch row, kv head): query heads h = kv·G + g are rows kv·G·T.. of [B, H, T, ·].
void groupedProducts(const float* a, const float* b, float* c, int bk, int rows, int n, int k, bool transB, int threads) {
  std::vector<Gemm> products(bk);
  for (int i = 0; i < bk; i++)
    products[i] = {a + (size_t)i * rows * k, b + (size_t)i * n * k, c + (size_t)i * rows * n, rows, n, k, false, transB};
  gemmBatch(products.data(), bk, threads);
}

}  // namespace

void attentionIn(const AttentionInArgs& a) {
  Scratch& s = scratch();
  const int rows = a.b * a.t, c = a.q.in, s_ = a.past + a.t, g = a.heads / a.kvHeads;
  float* xn = sized(s.xn, (size_t)rows * c);
  rmsNormRows(a.x, a.normW, xn, rows, c, a.eps);
  float* q = sized(s.q, (size_t)rows * a.heads * a.d);
  float* kNew = sized(s.kNew, (size_t)rows * a.kvHeads * a.d);
  float* vNew = sized(s.vNew, (size_t)rows * a.kvHeads * a.d);
  float* y = sized(s.yq, (size_t)rows * a.heads * a.d);
  linearRows(xn, rows, a.q, y, a.threads);
  attentionHeads({y, a.qNorm, a.cos, a.sin, q, a.b, a.t, a.heads, a.d, a.eps, a.qScale});
  linearRows(xn, rows, a.k, y, a.threads);
  attentionHeads({y, a.kNorm, a.cos, a.sin, kNew, a.b, a.t, a.kvHeads, a.d, a.eps, 1.f});
  linearRows(xn, rows, a.v, y, a.threads);
  attentionHeads({y, nullptr, nullptr, nullptr, vNew, a.b, a.t, a.kvHeads, a.d, a.eps, 1.f});
  const int bk = a.b * a.kvHeads;
  concatTime(a.pastK, kNew, a.keys, bk, a.past, a.t, a.d);
  concatTime(a.pastV, vNew, a.values, bk, a.past, a.t, a.d);
  groupedProducts(q, a.keys, a.scores, bk, g * a.t, s_, a.d, true, a.threads);
  const size_t perRow = (size_t)a.t * s_;  // bias [B, 1, T, S] over every head
  for (int bi = 0; bi < a.b; bi++)
    for (int hi = 0; hi < a.heads; hi++) {
      float* sc = a.scores + ((size_t)bi * a.heads + hi) * perRow;
      const float* bias = a.bias + bi * perRow;
      for (size_t i = 0; i < perRow; i++) sc[i] = sc[i] + bias[i];
    }
  trim();
}

void attentionOut(const AttentionOutArgs& a) {
  Scratch& s = scratch();
  const int rows = a.b * a.t, g = a.heads / a.kvHeads, c = a.o.out, hd = a.heads * a.d;
  float* heads = sized(s.yq, (size_t)rows * hd);  // [B, H, T, D]
  groupedProducts(a.probs, a.values, heads, a.b * a.kvHeads, g * a.t, a.d, a.s, false, a.threads);
  float* ctx = sized(s.ctx, (size_t)rows * hd);  // [B, T, H, D]
  for (int bi = 0; bi < a.b; bi++)
    for (int hi = 0; hi < a.heads; hi++)
      for (int ti = 0; ti < a.t; ti++)
        std::memcpy(ctx + (((size_t)bi * a.t + ti) * a.heads + hi) * a.d, heads + (((size_t)bi * a.heads + hi) * a.t + ti) * a.d, a.d * sizeof(float));
  linearRows(ctx, rows, a.o, a.h, a.threads);
  const size_t n = (size_t)rows * c;
  for (size_t i = 0; i < n; i++) a.h[i] = a.x[i] + a.h[i];
  float* hn = sized(s.xn, n);
  rmsNormRows(a.h, a.normW, hn, rows, c, a.eps);
  linearRows(hn, rows, a.gateW, a.gate, a.threads);
  linearRows(hn, rows, a.upW, a.up, a.threads);
  trim();
}

void mlpOut(const MlpOutArgs& a) {
  Scratch& s = scratch();
  const size_t n = (size_t)a.rows * a.down.in;
  float* m = sized(s.ctx, n);
  for (size_t i = 0; i < n; i++) {
    const float gs = a.gate[i] * a.sig[i];
    m[i] = gs * a.up[i];
  }
  linearRows(m, a.rows, a.down, a.y, a.threads);
  const size_t out = (size_t)a.rows * a.down.out;
  for (size_t i = 0; i < out; i++) a.y[i] = a.h[i] + a.y[i];
  trim();
}

void linearForward(const float* x, int rows, const LinearW& l, float* y, int threads) {
  linearRows(x, rows, l, y, threads);
  trim();
}

void linearBackward(const float* x, const float* dy, int rows, const LinearW& l, float* dx, float* daT, float* dbT, int threads) {
  Scratch& s = scratch();
  const size_t n = (size_t)rows * l.out;
  float* u = sized(s.loraA, (size_t)rows * l.rank);
  gemm(x, l.aT, u, rows, l.rank, l.in, false, threads);  // the forward's x · aT again: the same bits
  float* dv = sized(s.dv, n);
  for (size_t i = 0; i < n; i++) dv[i] = dy[i] * l.scale;
  float* du = sized(s.du, (size_t)rows * l.rank);
  gemm(dv, l.bT, du, rows, l.rank, l.out, true, threads);
  gemm(u, dv, dbT, l.rank, l.out, rows, false, threads, true);
  gemm(du, l.aT, dx, rows, l.in, l.rank, true, threads);
  gemm(x, du, daT, l.in, l.rank, rows, false, threads, true);
  float* base = sized(s.dxBase, (size_t)rows * l.in);
  gemm(dy, l.w, base, rows, l.in, l.out, !l.transW, threads);  // [out, in]: dy · W; [in, out]: dy · Wᵀ
  const size_t m = (size_t)rows * l.in;
  for (size_t i = 0; i < m; i++) dx[i] = dx[i] + base[i];  // the tape adds the LoRA branch's dx first
  trim();
}

}  // namespace trirl
