// trirl native elementwise kernels (AVX2 + FMA); callers check cpuSupported() first.
#pragma once
#include <cstddef>

namespace trirl {

// y[i] = e^x[i]; x and y may be the same array.
void expArray(const float* x, float* y, size_t count);

// The LM head's softmax over rows of raw logits y [rows, cols], z = y · invTemp, each step one
// rounded float operation of the tfjs chain it replaces (logprobs.ts), the sums left to right as
// tfjs-wasm's Sum adds them, exp as expArray:
//   stats:   out[2r] = max_j z, out[2r + 1] = Σ_j exp(z − max)      (tf.logSumExp's Max, Sub, Exp, Sum)
//   entropy: out[r] = Σ_j exp(z − lse[r]) · (z − lse[r])          (Sub, Exp, Mul, Sum)
//   probs:   out[r, j] = exp(z − lse[r])                           (Mul, Sub, Exp; out may be y)
enum class SoftmaxMode { kStats = 0, kEntropy = 1, kProbs = 2 };
void softmaxRows(SoftmaxMode mode, const float* y, const float* lse, float* out, int rows, int cols, float invTemp, int threads);

}  // namespace trirl
