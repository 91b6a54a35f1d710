// Blocked GEMM: a 6 × 16 micro-kernel keeps 12 AVX accumulators over a KC-long k block, reading A
// in place (no copy of A, which for attention is the activations; a transposed A with many
// columns is copied into 6-row strips, see gemmColumns) and B from KC × 16 panels packed with zero
// padding (a strided B thrashes L1 at power-of-two widths). A product with B stored [n, k] and
// 16–256 rows of A runs swapped (gemmSwapped): B's rows in place, op(A)ᵀ packed, C written
// transposed.
// Summation order of C[i][j]: one left-to-right FMA chain over all of k — a k block after the first
// starts its chain from C — so the sum is the same whatever the tiling, the threads, and the zero
// terms in front (a left-padded batch's attention weights): c = fma(a, b, c) leaves c unchanged when
// a·b is an exact 0.
#include "sgemm.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace trirl {
namespace {

constexpr int MR = 6, NR = 16, KC = 512, MC = 96, NC = 1024;

// op(A)[i][p] sits at a + i * rowStep + p * kStep: row-major A has (k, 1), a transposed one (1, m).
// The micro-kernel broadcasts its six values straight from there.
struct AView { const float* a; size_t rowStep, kStep; };

AView viewA(const Gemm& g) { return g.transA ? AView{g.a, 1, (size_t)g.m} : AView{g.a, (size_t)g.k, 1}; }

// dst[p * NR + c] = src[c * ld + p] for c < 8, p < 8: an 8 × 8 transpose in registers.
__attribute__((target("avx2,fma")))
void transpose8(const float* src, size_t ld, float* dst) {
  __m256 r[8], t[8];
  for (int c = 0; c < 8; c++) r[c] = _mm256_loadu_ps(src + c * ld);
  for (int c = 0; c < 8; c += 2) {
    t[c] = _mm256_unpacklo_ps(r[c], r[c + 1]);
    t[c + 1] = _mm256_unpackhi_ps(r[c], r[c + 1]);
  }
  for (int c = 0; c < 8; c += 4) {
    r[c] = _mm256_shuffle_ps(t[c], t[c + 2], 0x44);
    r[c + 1] = _mm256_shuffle_ps(t[c], t[c + 2], 0xEE);
    r[c + 2] = _mm256_shuffle_ps(t[c + 1], t[c + 3], 0x44);
    r[c + 3] = _mm256_shuffle_ps(t[c + 1], t[c + 3], 0xEE);
  }
  for (int c = 0; c < 4; c++) {
    _mm256_storeu_ps(dst + c * NR, _mm256_permute2f128_ps(r[c], r[c + 4], 0x20));
    _mm256_storeu_ps(dst + (c + 4) * NR, _mm256_permute2f128_ps(r[c], r[c + 4], 0x31));
  }
}

// NR columns of op(B)[k0..k0+kc, j0..) interleaved by k (dst[p * NR + c]), zero-padded past `cols`.
void packB(const Gemm& g, int j0, int cols, int k0, int kc, float* dst) {
  if (!g.transB && cols == NR) {
    for (int p = 0; p < kc; p++) std::memcpy(dst + p * NR, g.b + (size_t)(k0 + p) * g.n + j0, NR * sizeof(float));
    return;
  }
  if (g.transB && cols == NR) {  // B stored [n, k]: 16 rows of B become the panel's 16 columns
    int p = 0;
    for (; p + 8 <= kc; p += 8)
      for (int c = 0; c < NR; c += 8) transpose8(g.b + (size_t)(j0 + c) * g.k + k0 + p, g.k, dst + p * NR + c);
    for (; p < kc; p++)
      for (int c = 0; c < NR; c++) dst[p * NR + c] = g.b[(size_t)(j0 + c) * g.k + k0 + p];
    return;
  }
  for (int p = 0; p < kc; p++) {
    const int k = k0 + p;
    for (int c = 0; c < cols; c++) dst[p * NR + c] = g.transB ? g.b[(size_t)(j0 + c) * g.k + k] : g.b[(size_t)k * g.n + j0 + c];
    for (int c = cols; c < NR; c++) dst[p * NR + c] = 0.f;
  }
}

// acc = C (when `accumulate`, else 0), then acc += op(A)[R rows, p] ⊗ B[p, 16 columns] for each p of
// one k block in order (B rows `ldb` floats apart, `a[r]` pointing at row r); C = acc on the R rows
// × `cols`. A whole tile is loaded and stored in place; an edge tile goes through `tile`. With
// kTransC, C is written transposed (C[col][row], `ldc` apart; the swapped product). One template
// per row count, so the last rows of a product cost only their own work. Named accumulators: an
// array of them is spilled by GCC.
template <int R, bool kTransC = false>
__attribute__((target("avx2,fma"), always_inline)) inline
void microKernelR(int kc, const float* const a[MR], size_t kStep, const float* b, size_t ldb, float* c, int ldc, int cols, bool accumulate) {
  const bool full = cols == NR && !kTransC;
  alignas(32) float tile[MR][NR];
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  float* rowC[MR];
  for (int r = 0; r < R; r++) rowC[r] = full ? c + (size_t)r * ldc : tile[r];
  if (accumulate) {  // the chain goes on from C (columns past the edge start from 0)
    if (!full) {
      std::memset(tile, 0, sizeof tile);
      for (int r = 0; r < R; r++) std::memcpy(tile[r], c + (size_t)r * ldc, cols * sizeof(float));
    }
    c00 = _mm256_loadu_ps(rowC[0]), c01 = _mm256_loadu_ps(rowC[0] + 8);
    if constexpr (R > 1) c10 = _mm256_loadu_ps(rowC[1]), c11 = _mm256_loadu_ps(rowC[1] + 8);
    if constexpr (R > 2) c20 = _mm256_loadu_ps(rowC[2]), c21 = _mm256_loadu_ps(rowC[2] + 8);
    if constexpr (R > 3) c30 = _mm256_loadu_ps(rowC[3]), c31 = _mm256_loadu_ps(rowC[3] + 8);
    if constexpr (R > 4) c40 = _mm256_loadu_ps(rowC[4]), c41 = _mm256_loadu_ps(rowC[4] + 8);
    if constexpr (R > 5) c50 = _mm256_loadu_ps(rowC[5]), c51 = _mm256_loadu_ps(rowC[5] + 8);
  }
  const float *a0 = a[0], *a1 = a[R > 1 ? 1 : 0], *a2 = a[R > 2 ? 2 : 0], *a3 = a[R > 3 ? 3 : 0], *a4 = a[R > 4 ? 4 : 0], *a5 = a[R > 5 ? 5 : 0];
  #pragma GCC unroll 4
  for (int p = 0; p < kc; p++, b += ldb) {
    const size_t o = p * kStep;
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 ar = _mm256_broadcast_ss(a0 + o);
    c00 = _mm256_fmadd_ps(ar, b0, c00); c01 = _mm256_fmadd_ps(ar, b1, c01);
    if constexpr (R > 1) { ar = _mm256_broadcast_ss(a1 + o); c10 = _mm256_fmadd_ps(ar, b0, c10); c11 = _mm256_fmadd_ps(ar, b1, c11); }
    if constexpr (R > 2) { ar = _mm256_broadcast_ss(a2 + o); c20 = _mm256_fmadd_ps(ar, b0, c20); c21 = _mm256_fmadd_ps(ar, b1, c21); }
    if constexpr (R > 3) { ar = _mm256_broadcast_ss(a3 + o); c30 = _mm256_fmadd_ps(ar, b0, c30); c31 = _mm256_fmadd_ps(ar, b1, c31); }
    if constexpr (R > 4) { ar = _mm256_broadcast_ss(a4 + o); c40 = _mm256_fmadd_ps(ar, b0, c40); c41 = _mm256_fmadd_ps(ar, b1, c41); }
    if constexpr (R > 5) { ar = _mm256_broadcast_ss(a5 + o); c50 = _mm256_fmadd_ps(ar, b0, c50); c51 = _mm256_fmadd_ps(ar, b1, c51); }
  }
  _mm256_storeu_ps(rowC[0], c00); _mm256_storeu_ps(rowC[0] + 8, c01);
  if constexpr (R > 1) _mm256_storeu_ps(rowC[1], c10), _mm256_storeu_ps(rowC[1] + 8, c11);
  if constexpr (R > 2) _mm256_storeu_ps(rowC[2], c20), _mm256_storeu_ps(rowC[2] + 8, c21);
  if constexpr (R > 3) _mm256_storeu_ps(rowC[3], c30), _mm256_storeu_ps(rowC[3] + 8, c31);
  if constexpr (R > 4) _mm256_storeu_ps(rowC[4], c40), _mm256_storeu_ps(rowC[4] + 8, c41);
  if constexpr (R > 5) _mm256_storeu_ps(rowC[5], c50), _mm256_storeu_ps(rowC[5] + 8, c51);
  if constexpr (kTransC) {
    for (int q = 0; q < cols; q++)
      for (int r = 0; r < R; r++) c[(size_t)q * ldc + r] = tile[r][q];
  } else if (!full) {
    for (int r = 0; r < R; r++) std::memcpy(c + (size_t)r * ldc, tile[r], cols * sizeof(float));
  }
}

// The micro-kernel for `rows` rows (1 … MR); kTransC: C written transposed (the swapped product).
template <bool kTransC = false>
__attribute__((target("avx2,fma")))
void microKernel(int kc, const float* const a[MR], size_t kStep, const float* b, size_t ldb, float* c, int ldc, int rows, int cols, bool accumulate) {
  switch (rows) {
    case 6: return microKernelR<6, kTransC>(kc, a, kStep, b, ldb, c, ldc, cols, accumulate);
    case 5: return microKernelR<5, kTransC>(kc, a, kStep, b, ldb, c, ldc, cols, accumulate);
    case 4: return microKernelR<4, kTransC>(kc, a, kStep, b, ldb, c, ldc, cols, accumulate);
    case 3: return microKernelR<3, kTransC>(kc, a, kStep, b, ldb, c, ldc, cols, accumulate);
    case 2: return microKernelR<2, kTransC>(kc, a, kStep, b, ldb, c, ldc, cols, accumulate);
    default: return microKernelR<1, kTransC>(kc, a, kStep, b, ldb, c, ldc, cols, accumulate);
  }
}

// Columns [j0, j1) of one product: a thread's share. Per k block, each op(B) panel is packed once
// (it is read by every row). Up to MC rows, a panel is packed right before its rows use it, so it
// is still in L1; past MC, all panels of the block are packed first and A's rows are read in place
// MC at a time, so they stay in L2 while the panels go by. Either way every sum is one chain in k.
void gemmColumns(const Gemm& g, int j0, int j1) {
  // reused across calls: a fresh buffer per call cost page faults (≈ 40 µs for a 1 × 384 × 128
  // product, more than the product itself)
  thread_local std::vector<float> pb, pa;
  const AView av = viewA(g);
  const bool isPanelAtATime = g.m <= MC;
  for (int jc = j0; jc < j1; jc += NC) {
    const int nc = std::min(NC, j1 - jc);
    const int panels = (nc + NR - 1) / NR;
    for (int k0 = 0; k0 < g.k; k0 += KC) {
      const int kc = std::min(KC, g.k - k0);
      const size_t panelFloats = (size_t)kc * NR;
      if (pb.size() < (isPanelAtATime ? 1 : panels) * panelFloats) pb.resize((isPanelAtATime ? 1 : panels) * panelFloats);
      auto rowsOf = [&](int q, const float* panel, int ic, int icEnd) {
        const int j = jc + q * NR, cols = std::min(NR, jc + nc - j);
        for (int i = ic; i < icEnd; i += MR) {
          const int rows = std::min(MR, g.m - i);
          const float* rowsA[MR];
          for (int r = 0; r < MR; r++) rowsA[r] = av.a + (size_t)(i + std::min(r, rows - 1)) * av.rowStep + (size_t)k0 * av.kStep;
          microKernel(kc, rowsA, av.kStep, panel, NR, g.c + (size_t)i * g.n + j, g.n, rows, cols, k0 > 0);
        }
      };
      if (isPanelAtATime) {
        for (int q = 0; q < panels; q++) {
          packB(g, jc + q * NR, std::min(NR, nc - q * NR), k0, kc, pb.data());
          rowsOf(q, pb.data(), 0, g.m);
        }
        continue;
      }
      for (int q = 0; q < panels; q++) packB(g, jc + q * NR, std::min(NR, nc - q * NR), k0, kc, pb.data() + q * panelFloats);
      for (int ic = 0; ic < g.m; ic += MC) {
        const int icEnd = std::min(g.m, ic + MC);
        if (!g.transA || panels < 4) {
          for (int q = 0; q < panels; q++) rowsOf(q, pb.data() + q * panelFloats, ic, icEnd);
          continue;
        }
        // a transposed A's rows are m floats apart in k: read in place, every k step of a micro-kernel
        // would fall in the same L1 set (4 KB apart at m = 1024). Its MC rows are copied into
        // MR-row strips first (rows past the edge repeat the last one, as in place).
        if (pa.size() < (size_t)MC * kc) pa.resize((size_t)MC * kc);
        for (int i = ic; i < icEnd; i += MR) {
          const int rows = std::min(MR, g.m - i);
          float* strip = pa.data() + (size_t)(i - ic) * kc;
          for (int p = 0; p < kc; p++) {
            const float* src = g.a + (size_t)(k0 + p) * g.m + i;
            for (int r = 0; r < MR; r++) strip[p * MR + r] = src[std::min(r, rows - 1)];
          }
        }
        for (int q = 0; q < panels; q++) {
          const int j = jc + q * NR, cols = std::min(NR, jc + nc - j);
          for (int i = ic; i < icEnd; i += MR) {
            const float* strip = pa.data() + (size_t)(i - ic) * kc;
            const float* rowsA[MR] = {strip, strip + 1, strip + 2, strip + 3, strip + 4, strip + 5};
            microKernel(kc, rowsA, MR, pb.data() + q * panelFloats, NR, g.c + (size_t)i * g.n + j, g.n, std::min(MR, g.m - i), cols, k0 > 0);
          }
        }
      }
    }
  }
  if (g.k == 0)
    for (int i = 0; i < g.m; i++) std::fill(g.c + (size_t)i * g.n + j0, g.c + (size_t)i * g.n + j1, 0.f);
}

// Whether a product runs swapped: B stored [n, k], 16 to 256 rows (op(A)ᵀ's panels fit in L2), and
// at most 10 % more rows padded to 16-wide panels than to 6-row strips. Measured on the 2-core box
// (AVX2/FMA, 2 threads, k 128–4864): a decode step's LM head, 32 × 151,936 × 896, 147 → 178
// GFLOP/s; the 0.5 B linears at 16–64 rows +10–45 %; 8 rows no faster; 1024 rows slower.
bool isSwapped(const Gemm& g) {
  const int padded16 = (g.m + NR - 1) / NR * NR, padded6 = (g.m + MR - 1) / MR * MR;
  return g.transB && g.k > 0 && g.m >= 16 && g.m <= 256 && padded16 * 10 <= padded6 * 11;
}

// Columns [j0, j1) of a product with B stored [n, k] and few rows of A, computed as Cᵀ = B · op(A)ᵀ:
// B's rows are read in place (six at a time, broadcast), op(A)ᵀ is packed once into 16-wide
// panels, and C is written transposed. No panel of B is packed (for a decode step's LM head that
// packing was a transposing pass over the whole weight). Each element is still one FMA chain over
// k from 0, with the same products in the same order (a·b = b·a exactly).
void gemmSwapped(const Gemm& g, int j0, int j1) {
  thread_local std::vector<float> pa;
  const Gemm at{g.b, g.a, nullptr, g.n, g.m, g.k, false, !g.transA};  // op(B') = op(A)ᵀ
  const int panels = (g.m + NR - 1) / NR;
  const size_t panelFloats = (size_t)g.k * NR;
  if (pa.size() < panels * panelFloats) pa.resize(panels * panelFloats);
  for (int q = 0; q < panels; q++) packB(at, q * NR, std::min(NR, g.m - q * NR), 0, g.k, pa.data() + q * panelFloats);
  for (int j = j0; j < j1; j += MR) {
    const int rows = std::min(MR, j1 - j);
    const float* rowsB[MR];
    for (int r = 0; r < MR; r++) rowsB[r] = g.b + (size_t)(j + std::min(r, rows - 1)) * g.k;
    for (int q = 0; q < panels; q++)
      microKernel<true>(g.k, rowsB, 1, pa.data() + q * panelFloats, NR, g.c + (size_t)q * NR * g.n + j, g.n, rows, std::min(NR, g.m - q * NR), false);
  }
}

// Waits for `done` by spinning up to ≈ 50 µs before the caller blocks on a condition variable: a
// layer's products come back to back, tens of µs each at the tiny model's sizes, and a futex
// wake-up on this VM costs about as much as such a product.
template <class Done>
void spinUntil(const Done& done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
  for (int i = 0; !done(); i++) {
    _mm_pause();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return;
  }
}

// A fixed set of worker threads; run() hands each a task index and waits for all.
class Pool {
 public:
  void run(int tasks, int threads, const std::function<void(int, int)>& task) {
    threads = std::max(1, std::min(threads, tasks));
    if (threads == 1) {
      for (int t = 0; t < tasks; t++) task(t, 0);
      return;
    }
    ensure(threads - 1);
    std::unique_lock<std::mutex> lock(mu_);
    task_ = &task;
    next_ = 0;
    total_ = tasks;
    active_ = threads;  // this thread included
    generation_++;
    wake_.notify_all();
    lock.unlock();
    work(0);
    spinUntil([&] { return active_.load(std::memory_order_acquire) == 0; });
    lock.lock();
    done_.wait(lock, [&] { return active_ == 0; });
    task_ = nullptr;
  }

 private:
  void ensure(int n) {
    while ((int)workers_.size() < n) {
      const int slot = (int)workers_.size() + 1;
      workers_.emplace_back([this, slot] { loop(slot); });
      workers_.back().detach();
    }
    wanted_ = n;
  }
  void loop(int slot) {
    long seen = 0;
    for (;;) {
      spinUntil([&] { return generation_.load(std::memory_order_acquire) != seen; });
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (slot > wanted_ || task_ == nullptr) continue;
      }
      work(slot);
    }
  }
  void work(int slot) {
    for (;;) {
      int t;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (next_ >= total_) break;
        t = next_++;
      }
      (*task_)(t, slot);
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (--active_ == 0) done_.notify_all();
  }
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int, int)>* task_ = nullptr;
  int next_ = 0, total_ = 0, wanted_ = 0;
  std::atomic<int> active_{0};
  std::atomic<long> generation_{0};
};

// One pool per calling thread: each JS worker thread (rl/pool.ts) runs its own products.
Pool& pool() {
  static thread_local Pool* p = new Pool();  // never destroyed: its detached workers would outlive it
  return *p;
}

}  // namespace

void parallelFor(int tasks, int threads, const std::function<void(int)>& f) {
  pool().run(tasks, threads, [&](int t, int) { f(t); });
}

bool cpuSupported() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

void gemmBatch(const Gemm* products, int count, int threads) {
  // tasks: column ranges, NR-aligned (splitting never changes an element's chain)
  struct Task { int product, j0, j1; };
  std::vector<Task> tasks;
  for (int p = 0; p < count; p++) {
    const Gemm& g = products[p];
    if (g.m == 0 || g.n == 0) continue;
    const long work = (long)g.m * g.n * std::max(g.k, 1);
    // enough tasks to balance threads, none thinner than one NR panel or ~64 k multiply-adds
    int pieces = (int)std::min<long>({(long)threads, (g.n + NR - 1) / NR, std::max(1L, work / 65536)});
    const int width = ((g.n + pieces - 1) / pieces + NR - 1) / NR * NR;
    for (int j = 0; j < g.n; j += width) tasks.push_back({p, j, std::min(g.n, j + width)});
  }
  pool().run((int)tasks.size(), threads, [&](int t, int) {
    const Gemm& g = products[tasks[t].product];
    if (isSwapped(g)) gemmSwapped(g, tasks[t].j0, tasks[t].j1);
    else gemmColumns(g, tasks[t].j0, tasks[t].j1);
  });
}

}  // namespace trirl
