// Fused inference kernels, scalar on purpose: each line is one rounded float operation of the tfjs
// chain it replaces (Square, Mean, Add, Rsqrt, Mul; Neg, Concat, Mul, Add), and binding.gyp
// compiles this file with -ffp-contract=off so that no multiply and add are fused into an FMA,
// which would round once instead of twice. The compiler may still vectorise the elementwise loops
// (that does not change any element's value); the sums stay sequential, as in tfjs-wasm's Mean.
#include "fused.h"

#include <cmath>
#include <vector>

namespace trirl {
namespace {

// tfjs's rmsNorm row: mean over the row as tfjs-wasm's Mean computes it (a left-to-right float
// sum divided by the count), then x · r · w with r = 1 / √(mean + eps).
inline void normRow(const float* x, const float* w, float* y, size_t cols, float eps) {
  float sum = 0.f;
  for (size_t j = 0; j < cols; j++) {
    const float sq = x[j] * x[j];
    sum += sq;
  }
  const float mean = sum / (float)cols;
  const float r = 1.f / std::sqrt(mean + eps);
  for (size_t j = 0; j < cols; j++) {
    const float xr = x[j] * r;
    y[j] = xr * w[j];
  }
}

}  // namespace

void rmsNormRows(const float* x, const float* w, float* y, size_t rows, size_t cols, float eps) {
  for (size_t i = 0; i < rows; i++) normRow(x + i * cols, w, y + i * cols, cols, eps);
}

void attentionHeads(const HeadsArgs& h) {
  const int half = h.d / 2;
  std::vector<float> row(h.d);
  for (int bi = 0; bi < h.b; bi++)
    for (int ti = 0; ti < h.t; ti++) {
      const size_t bt = (size_t)bi * h.t + ti;
      const float* cs = h.cos ? h.cos + bt * h.d : nullptr;
      const float* sn = h.sin ? h.sin + bt * h.d : nullptr;
      for (int ni = 0; ni < h.n; ni++) {
        const float* src = h.x + (bt * h.n + ni) * h.d;
        float* dst = h.y + (((size_t)bi * h.n + ni) * h.t + ti) * h.d;  // [B, n, T, D]
        if (h.normW) normRow(src, h.normW, row.data(), h.d, h.eps);
        else for (int j = 0; j < h.d; j++) row[j] = src[j];
        for (int j = 0; j < h.d; j++) {
          float v = row[j];
          if (cs) {
            // x·cos + rotate_half(x)·sin, rotate_half(x) = [−x₂, x₁]
            const float rotated = j < half ? -row[j + half] : row[j - half];
            const float a = v * cs[j];
            const float b = rotated * sn[j];
            v = a + b;
          }
          if (h.scale != 1.f) v = v * h.scale;
          dst[j] = v;
        }
      }
    }
}

}  // namespace trirl
