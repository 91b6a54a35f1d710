// trirl native kernels: a deterministic, multi-threaded float32 GEMM (AVX2 + FMA).
#pragma once
#include <cstddef>
#include <functional>

namespace trirl {

// One product C[m, n] = op(A) · op(B), every matrix row-major and contiguous:
// op(A) is [m, k] (stored [k, m] when transA), op(B) is [k, n] (stored [n, k] when transB).
struct Gemm {
  const float* a; const float* b; float* c;
  int m, n, k;
  bool transA, transB;
};

// Runs `count` products on up to `threads` threads. Each element of C is summed over k in the
// same order whatever m, n, the tile it falls in, or the number of threads: results are
// bit-identical across thread counts and batch sizes.
void gemmBatch(const Gemm* products, int count, int threads);

bool cpuSupported();  // AVX2 and FMA present

// Runs f(0) … f(tasks − 1) on up to `threads` threads (the products' pool of this calling thread).
void parallelFor(int tasks, int threads, const std::function<void(int)>& f);

}  // namespace trirl
