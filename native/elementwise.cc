// Elementwise kernels over the wasm heap. exp: AVX2 + FMA, a Cephes-style range reduction
// x = n·ln2 + r (|r| ≤ ln2/2, ln2 split hi/lo) and a degree-6 polynomial for e^r; relative error
// below 2e-7 (≈ 2 ulp). Inputs under −87.3 (results below the smallest normal float) give 0,
// over 88.7 give +inf, NaN stays NaN. Scalar tail with the same arithmetic, so every element's
// value depends on its input alone.
#include "elementwise.h"

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <vector>

#include "sgemm.h"

namespace trirl {
namespace {

constexpr float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
constexpr float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
constexpr float LOW = -87.3365478515625f, HIGH = 88.72283935546875f;

float expScalar(float x) {
  if (std::isnan(x)) return x;
  if (x < LOW) return 0.f;
  if (x > HIGH) return INFINITY;
  const float n = std::nearbyint(x * LOG2E);
  float r = std::fma(-n, LN2_HI, x);
  r = std::fma(-n, LN2_LO, r);
  float p = std::fma(P0, r, P1);
  p = std::fma(p, r, P2);
  p = std::fma(p, r, P3);
  p = std::fma(p, r, P4);
  p = std::fma(p, r, P5);
  p = std::fma(p, r * r, r + 1.f);
  // 2^n as 2^h · 2^(n−h), h = ⌊n/2⌋: each factor's exponent stays normal for n in [−126, 128]
  const int32_t half = (int32_t)std::floor(n * 0.5f), bits1 = (half + 127) << 23, bits2 = ((int32_t)n - half + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &bits1, sizeof s1);
  std::memcpy(&s2, &bits2, sizeof s2);
  return p * s1 * s2;
}

}  // namespace

__attribute__((target("avx2,fma")))
void expArray(const float* x, float* y, size_t count) {
  size_t i = 0;
  const __m256 log2e = _mm256_set1_ps(LOG2E), hi = _mm256_set1_ps(LN2_HI), lo = _mm256_set1_ps(LN2_LO), one = _mm256_set1_ps(1.f);
  const __m256 low = _mm256_set1_ps(LOW), high = _mm256_set1_ps(HIGH), inf = _mm256_set1_ps(INFINITY);
  for (; i + 8 <= count; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 c = _mm256_min_ps(_mm256_max_ps(v, low), high);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(c, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, hi, c);
    r = _mm256_fnmadd_ps(n, lo, r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(P0), r, _mm256_set1_ps(P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, one));
    const __m256i ni = _mm256_cvtps_epi32(n), half = _mm256_srai_epi32(ni, 1), bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), bias), 23));
    __m256 out = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    out = _mm256_blendv_ps(out, _mm256_setzero_ps(), _mm256_cmp_ps(v, low, _CMP_LT_OQ));
    out = _mm256_blendv_ps(out, inf, _mm256_cmp_ps(v, high, _CMP_GT_OQ));
    out = _mm256_blendv_ps(out, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));  // NaN in, NaN out
    _mm256_storeu_ps(y + i, out);
  }
  for (; i < count; i++) y[i] = expScalar(x[i]);
}

namespace {

constexpr int kRowsAtOnce = 4;

// Up to kRowsAtOnce rows of softmaxRows. Each row's sums are left to right; four rows go side by
// side, so four independent chains of additions keep the adder busy (one chain waits ≈ 4 cycles
// per addition). `t` and `e` are scratch of kRowsAtOnce × cols floats each.
void softmaxRowGroup(SoftmaxMode mode, const float* y, const float* lse, float* out, int rows, int cols, float invTemp, float* t, float* e) {
  const size_t n = (size_t)cols;
  float* tr[kRowsAtOnce];
  float* er[kRowsAtOnce];
  for (int r = 0; r < kRowsAtOnce; r++) {  // rows past `rows` repeat the last one; their results are dropped
    const int src = r < rows ? r : rows - 1;
    tr[r] = t + r * n, er[r] = e + r * n;
    for (size_t j = 0; j < n; j++) tr[r][j] = y[src * n + j] * invTemp;  // Mul (× 1 leaves every value as it is)
  }
  float sum[kRowsAtOnce] = {0.f, 0.f, 0.f, 0.f};
  if (mode == SoftmaxMode::kStats) {
    float mx[kRowsAtOnce];
    for (int r = 0; r < kRowsAtOnce; r++) mx[r] = tr[r][0];
    for (size_t j = 1; j < n; j++)
      for (int r = 0; r < kRowsAtOnce; r++)
        if (tr[r][j] > mx[r]) mx[r] = tr[r][j];
    for (int r = 0; r < kRowsAtOnce; r++) {
      for (size_t j = 0; j < n; j++) tr[r][j] = tr[r][j] - mx[r];
      expArray(tr[r], tr[r], n);
    }
    for (size_t j = 0; j < n; j++)
      for (int r = 0; r < kRowsAtOnce; r++) sum[r] += tr[r][j];
    for (int r = 0; r < rows; r++) out[2 * r] = mx[r], out[2 * r + 1] = sum[r];
    return;
  }
  for (int r = 0; r < kRowsAtOnce; r++) {
    const float l = lse[r < rows ? r : rows - 1];
    for (size_t j = 0; j < n; j++) tr[r][j] = tr[r][j] - l;  // log p
    if (mode == SoftmaxMode::kProbs) {
      if (r < rows) expArray(tr[r], out + r * n, n);
    } else {
      expArray(tr[r], er[r], n);  // p
    }
  }
  if (mode == SoftmaxMode::kProbs) return;
  for (size_t j = 0; j < n; j++)
    for (int r = 0; r < kRowsAtOnce; r++) {
      const float term = er[r][j] * tr[r][j];
      sum[r] += term;
    }
  for (int r = 0; r < rows; r++) out[r] = sum[r];
}

}  // namespace

void softmaxRows(SoftmaxMode mode, const float* y, const float* lse, float* out, int rows, int cols, float invTemp, int threads) {
  if (rows <= 0 || cols <= 0) return;
  const size_t width = mode == SoftmaxMode::kStats ? 2 : mode == SoftmaxMode::kEntropy ? 1 : (size_t)cols;
  parallelFor((rows + kRowsAtOnce - 1) / kRowsAtOnce, threads, [&](int g) {
    thread_local std::vector<float> scratch;  // kept: a fresh one per call costs page faults
    if (scratch.size() < 2 * kRowsAtOnce * (size_t)cols) scratch.resize(2 * kRowsAtOnce * (size_t)cols);
    const int r0 = g * kRowsAtOnce;
    softmaxRowGroup(mode, y + (size_t)r0 * cols, lse ? lse + r0 : nullptr, out + r0 * width, std::min(kRowsAtOnce, rows - r0), cols, invTemp,
                    scratch.data(), scratch.data() + kRowsAtOnce * (size_t)cols);
  });
}

}  // namespace trirl
