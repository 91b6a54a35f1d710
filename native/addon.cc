// Node-API entry points of trirl's native kernels (native/sgemm.cc, elementwise.cc, fused.cc, layer.cc). They work in place on the
// tfjs wasm backend's heap: JS passes the heap's ArrayBuffer and float offsets into it, so no
// tensor is copied in or out.
#include <node_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "elementwise.h"
#include "fused.h"
#include "layer.h"
#include "sgemm.h"

namespace {

napi_value fail(napi_env env, const std::string& message) {
  napi_throw_error(env, nullptr, ("trirl native: " + message).c_str());
  return nullptr;
}

// The call's `n` arguments, the first of them the heap's ArrayBuffer (as floats); false after a throw.
bool heapCall(napi_env env, napi_callback_info info, size_t n, napi_value* args, float** heap, size_t* floats, const char* usage) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  if (argc != n) return fail(env, usage), false;
  void* data = nullptr;
  size_t bytes = 0;
  if (napi_get_arraybuffer_info(env, args[0], &data, &bytes) != napi_ok) return fail(env, "the heap must be an ArrayBuffer"), false;
  *heap = static_cast<float*>(data);
  *floats = bytes / sizeof(float);
  return true;
}

// A typed array argument of `type` and its element count; false when it is not one.
template <typename T>
bool typedArg(napi_env env, napi_value value, napi_typedarray_type type, const T** data, size_t* length) {
  napi_typedarray_type actual;
  void* raw = nullptr;
  if (napi_get_typedarray_info(env, value, &actual, length, &raw, nullptr, nullptr) != napi_ok || actual != type) return false;
  *data = static_cast<const T*>(raw);
  return true;
}

// A threads argument: at least 1.
int threadsOf(int32_t threads) { return threads < 1 ? 1 : threads; }

// gemmBatch(heap: ArrayBuffer, products: Int32Array, threads: number): undefined
// products: 8 ints per product: aOffset, bOffset, cOffset (in floats), m, n, k, transA, transB.
napi_value GemmBatch(napi_env env, napi_callback_info info) {
  napi_value args[3];
  float* f = nullptr;
  size_t heapFloats = 0;
  if (!heapCall(env, info, 3, args, &f, &heapFloats, "gemmBatch expects (heap, products, threads)")) return nullptr;
  size_t length = 0;
  const int32_t* d = nullptr;
  if (!typedArg(env, args[1], napi_int32_array, &d, &length) || length % 8 != 0)
    return fail(env, "products must be an Int32Array of 8 ints per product");
  int32_t threads = 1;
  napi_get_value_int32(env, args[2], &threads);
  std::vector<trirl::Gemm> products;
  for (size_t p = 0; p < length / 8; p++, d += 8) {
    const int64_t m = d[3], n = d[4], k = d[5];
    if (m < 0 || n < 0 || k < 0 || d[0] < 0 || d[1] < 0 || d[2] < 0) return fail(env, "negative offset or size");
    if ((uint64_t)d[0] + m * k > heapFloats || (uint64_t)d[1] + k * n > heapFloats || (uint64_t)d[2] + m * n > heapFloats)
      return fail(env, "a product reaches past the end of the heap");
    products.push_back({f + d[0], f + d[1], f + d[2], (int)m, (int)n, (int)k, d[6] != 0, d[7] != 0});
  }
  trirl::gemmBatch(products.data(), (int)products.size(), threadsOf(threads));
  return nullptr;
}

// exp(heap: ArrayBuffer, from: number, to: number, count: number): undefined — offsets in floats.
napi_value Exp(napi_env env, napi_callback_info info) {
  napi_value args[4];
  float* f = nullptr;
  size_t heapFloats = 0;
  if (!heapCall(env, info, 4, args, &f, &heapFloats, "exp expects (heap, from, to, count)")) return nullptr;
  int64_t from = 0, to = 0, count = 0;
  napi_get_value_int64(env, args[1], &from);
  napi_get_value_int64(env, args[2], &to);
  napi_get_value_int64(env, args[3], &count);
  const int64_t floats = (int64_t)heapFloats;
  if (from < 0 || to < 0 || count < 0 || from + count > floats || to + count > floats) return fail(env, "exp reaches past the heap");
  trirl::expArray(f + from, f + to, (size_t)count);
  return nullptr;
}

// Whether [offset, offset + count) lies in the heap (an absent operand, offset −1, counts as inside).
bool inHeap(int64_t offset, int64_t count, size_t heapFloats) {
  return offset == -1 || (offset >= 0 && count >= 0 && (uint64_t)(offset + count) <= heapFloats);
}

// rmsNorm(heap, x, w, y, rows, cols, eps): undefined — offsets in floats (fused.h).
napi_value RmsNorm(napi_env env, napi_callback_info info) {
  napi_value args[7];
  float* f = nullptr;
  size_t heapFloats = 0;
  if (!heapCall(env, info, 7, args, &f, &heapFloats, "rmsNorm expects (heap, x, w, y, rows, cols, eps)")) return nullptr;
  int64_t v[5];
  for (int i = 0; i < 5; i++) napi_get_value_int64(env, args[1 + i], &v[i]);
  double eps = 0;
  napi_get_value_double(env, args[6], &eps);
  const auto [x, w, y, rows, cols] = v;
  if (rows < 0 || cols < 0 || x < 0 || w < 0 || y < 0 || !inHeap(x, rows * cols, heapFloats) || !inHeap(y, rows * cols, heapFloats) || !inHeap(w, cols, heapFloats))
    return fail(env, "rmsNorm reaches past the heap");
  trirl::rmsNormRows(f + x, f + w, f + y, (size_t)rows, (size_t)cols, (float)eps);
  return nullptr;
}

// attentionHeads(heap, ints, eps, scale): undefined — ints: Int32Array [x, normW, cos, sin, y, b,
// t, n, d], offsets in floats, −1 for an absent normW / cos / sin (fused.h).
napi_value AttentionHeads(napi_env env, napi_callback_info info) {
  napi_value args[4];
  float* f = nullptr;
  size_t heapFloats = 0;
  if (!heapCall(env, info, 4, args, &f, &heapFloats, "attentionHeads expects (heap, ints, eps, scale)")) return nullptr;
  size_t length = 0;
  const int32_t* d = nullptr;
  if (!typedArg(env, args[1], napi_int32_array, &d, &length) || length != 9)
    return fail(env, "attentionHeads: ints must be an Int32Array of 9");
  double eps = 0, scale = 1;
  napi_get_value_double(env, args[2], &eps);
  napi_get_value_double(env, args[3], &scale);
  const int64_t b = d[5], t = d[6], n = d[7], hd = d[8], size = b * t * n * hd;
  if (b < 0 || t < 0 || n < 0 || hd < 0 || hd % 2 != 0 || d[0] < 0 || d[4] < 0) return fail(env, "attentionHeads: bad sizes");
  if (!inHeap(d[0], size, heapFloats) || !inHeap(d[4], size, heapFloats) || !inHeap(d[1], hd, heapFloats) || !inHeap(d[2], b * t * hd, heapFloats) || !inHeap(d[3], b * t * hd, heapFloats) || (d[2] == -1) != (d[3] == -1))
    return fail(env, "attentionHeads reaches past the heap");
  const auto at = [&](int32_t o) { return o == -1 ? nullptr : f + o; };
  trirl::attentionHeads({at(d[0]), at(d[1]), at(d[2]), at(d[3]), f + d[4], (int)b, (int)t, (int)n, (int)hd, (float)eps, (float)scale});
  return nullptr;
}

// Operands of a fused layer part, checked against the heap: offsets in floats, −1 = absent.
struct Operands {
  float* f;
  size_t floats;
  bool ok = true;
  float* at(int32_t offset, int64_t count, bool required = true) {
    if (offset == -1 && !required) return nullptr;
    if (offset < 0 || count < 0 || (uint64_t)offset + (uint64_t)count > floats) ok = false;
    return ok ? f + offset : nullptr;
  }
  // 8 ints [w, bias, aT, bT, in, out, rank, transW] and its LoRA scale.
  trirl::LinearW linear(const int32_t* d, double scale) {
    const int64_t in = d[4], out = d[5], rank = d[6];
    if (in <= 0 || out <= 0 || rank < 0 || (d[2] == -1) != (d[3] == -1)) ok = false;
    if (!ok) return {};
    return {at(d[0], in * out), at(d[1], out, false), at(d[2], in * rank, false), at(d[3], rank * out, false), (int)in, (int)out, (int)rank, d[7] != 0, (float)scale};
  }
};

// The call's (heap, ints: Int32Array of `nInts`, floats: Float64Array of `nFloats`); false after a throw.
bool layerCall(napi_env env, napi_callback_info info, size_t nInts, size_t nFloats, Operands* ops, const int32_t** ints, const double** floats, const char* name) {
  napi_value args[3];
  float* f = nullptr;
  size_t heapFloats = 0;
  if (!heapCall(env, info, 3, args, &f, &heapFloats, (std::string(name) + " expects (heap, ints, floats)").c_str())) return false;
  size_t length = 0;
  if (!typedArg(env, args[1], napi_int32_array, ints, &length) || length != nInts)
    return fail(env, std::string(name) + ": ints must be an Int32Array of " + std::to_string(nInts)), false;
  if (!typedArg(env, args[2], napi_float64_array, floats, &length) || length != nFloats)
    return fail(env, std::string(name) + ": floats must be a Float64Array of " + std::to_string(nFloats)), false;
  *ops = Operands{f, heapFloats};
  return true;
}

// softmaxRows(heap, ints, floats): ints [mode, y, lse (−1: none), out, rows, cols, threads];
// floats [invTemp] (elementwise.h).
napi_value SoftmaxRows(napi_env env, napi_callback_info info) {
  Operands o{};
  const int32_t* d = nullptr;
  const double* fl = nullptr;
  if (!layerCall(env, info, 7, 1, &o, &d, &fl, "softmaxRows")) return nullptr;
  const int64_t mode = d[0], rows = d[4], cols = d[5];
  if (mode < 0 || mode > 2 || rows < 0 || cols < 0) return fail(env, "softmaxRows: bad mode or sizes");
  const float* y = o.at(d[1], rows * cols);
  const float* lse = o.at(d[2], rows, mode != 0);  // the stats need none
  float* out = o.at(d[3], mode == 0 ? 2 * rows : mode == 1 ? rows : rows * cols);
  if (!o.ok) return fail(env, "softmaxRows reaches past the heap");
  trirl::softmaxRows(static_cast<trirl::SoftmaxMode>(mode), y, lse, out, (int)rows, (int)cols, (float)fl[0], threadsOf(d[6]));
  return nullptr;
}

// attentionIn(heap, ints, floats): ints [x, normW, qNorm, kNorm, cos, sin, bias, pastK, pastV,
// scores, keys, values, b, t, past, heads, kvHeads, d, threads, q (8), k (8), v (8)]; floats
// [eps, qScale, q, k, v LoRA scales] (layer.h).
napi_value AttentionIn(napi_env env, napi_callback_info info) {
  Operands o{};
  const int32_t* d = nullptr;
  const double* fl = nullptr;
  if (!layerCall(env, info, 43, 5, &o, &d, &fl, "attentionIn")) return nullptr;
  const int64_t b = d[12], t = d[13], past = d[14], h = d[15], kv = d[16], hd = d[17], s = past + t;
  if (b <= 0 || t <= 0 || past < 0 || h <= 0 || kv <= 0 || h % kv != 0 || hd <= 0 || hd % 2 != 0) return fail(env, "attentionIn: bad sizes");
  trirl::AttentionInArgs a{};
  a.q = o.linear(d + 19, fl[2]), a.k = o.linear(d + 27, fl[3]), a.v = o.linear(d + 35, fl[4]);
  const int64_t c = a.q.in, rows = b * t;
  if (!o.ok || a.q.out != h * hd || a.k.out != kv * hd || a.v.out != kv * hd || a.k.in != c || a.v.in != c) return fail(env, "attentionIn: linears do not match the heads");
  a.x = o.at(d[0], rows * c), a.normW = o.at(d[1], c), a.qNorm = o.at(d[2], hd, false), a.kNorm = o.at(d[3], hd, false);
  a.cos = o.at(d[4], rows * hd), a.sin = o.at(d[5], rows * hd), a.bias = o.at(d[6], b * t * s);
  a.pastK = o.at(d[7], b * kv * past * hd, past > 0), a.pastV = o.at(d[8], b * kv * past * hd, past > 0);
  a.scores = o.at(d[9], b * h * t * s), a.keys = o.at(d[10], b * kv * s * hd), a.values = o.at(d[11], b * kv * s * hd);
  if (!o.ok) return fail(env, "attentionIn reaches past the heap");
  a.b = (int)b, a.t = (int)t, a.past = (int)past, a.heads = (int)h, a.kvHeads = (int)kv, a.d = (int)hd, a.threads = threadsOf(d[18]);
  a.eps = (float)fl[0], a.qScale = (float)fl[1];
  trirl::attentionIn(a);
  return nullptr;
}

// attentionOut(heap, ints, floats): ints [probs, values, x, normW, h, gate, up, b, t, s, heads,
// kvHeads, d, threads, o (8), gate (8), up (8)]; floats [eps, o, gate, up LoRA scales] (layer.h).
napi_value AttentionOut(napi_env env, napi_callback_info info) {
  Operands o{};
  const int32_t* d = nullptr;
  const double* fl = nullptr;
  if (!layerCall(env, info, 38, 4, &o, &d, &fl, "attentionOut")) return nullptr;
  const int64_t b = d[7], t = d[8], s = d[9], h = d[10], kv = d[11], hd = d[12], rows = b * t;
  if (b <= 0 || t <= 0 || s <= 0 || h <= 0 || kv <= 0 || h % kv != 0 || hd <= 0) return fail(env, "attentionOut: bad sizes");
  trirl::AttentionOutArgs a{};
  a.o = o.linear(d + 14, fl[1]), a.gateW = o.linear(d + 22, fl[2]), a.upW = o.linear(d + 30, fl[3]);
  const int64_t c = a.o.out, f = a.gateW.out;
  if (!o.ok || a.o.in != h * hd || a.gateW.in != c || a.upW.in != c || a.upW.out != f) return fail(env, "attentionOut: linears do not match");
  a.probs = o.at(d[0], b * h * t * s), a.values = o.at(d[1], b * kv * s * hd), a.x = o.at(d[2], rows * c), a.normW = o.at(d[3], c);
  a.h = o.at(d[4], rows * c), a.gate = o.at(d[5], rows * f), a.up = o.at(d[6], rows * f);
  if (!o.ok) return fail(env, "attentionOut reaches past the heap");
  a.b = (int)b, a.t = (int)t, a.s = (int)s, a.heads = (int)h, a.kvHeads = (int)kv, a.d = (int)hd, a.threads = threadsOf(d[13]);
  a.eps = (float)fl[0];
  trirl::attentionOut(a);
  return nullptr;
}

// mlpOut(heap, ints, floats): ints [gate, sig, up, h, y, rows, threads, down (8)]; floats [down's LoRA scale].
napi_value MlpOut(napi_env env, napi_callback_info info) {
  Operands o{};
  const int32_t* d = nullptr;
  const double* fl = nullptr;
  if (!layerCall(env, info, 15, 1, &o, &d, &fl, "mlpOut")) return nullptr;
  const int64_t rows = d[5];
  trirl::MlpOutArgs a{};
  a.down = o.linear(d + 7, fl[0]);
  if (rows <= 0 || !o.ok) return fail(env, "mlpOut: bad sizes");
  const int64_t f = a.down.in, c = a.down.out;
  a.gate = o.at(d[0], rows * f), a.sig = o.at(d[1], rows * f), a.up = o.at(d[2], rows * f), a.h = o.at(d[3], rows * c), a.y = o.at(d[4], rows * c);
  if (!o.ok) return fail(env, "mlpOut reaches past the heap");
  a.rows = (int)rows, a.threads = threadsOf(d[6]);
  trirl::mlpOut(a);
  return nullptr;
}

// linearForward(heap, ints, floats): ints [x, y, rows, threads, linear (8)]; floats [LoRA scale].
napi_value LinearForward(napi_env env, napi_callback_info info) {
  Operands o{};
  const int32_t* d = nullptr;
  const double* fl = nullptr;
  if (!layerCall(env, info, 12, 1, &o, &d, &fl, "linearForward")) return nullptr;
  const int64_t rows = d[2];
  const trirl::LinearW l = o.linear(d + 4, fl[0]);
  if (rows <= 0 || !o.ok || !l.aT) return fail(env, "linearForward: bad sizes or no LoRA term");
  const float* x = o.at(d[0], rows * l.in);
  float* y = o.at(d[1], rows * l.out);
  if (!o.ok) return fail(env, "linearForward reaches past the heap");
  trirl::linearForward(x, (int)rows, l, y, threadsOf(d[3]));
  return nullptr;
}

// linearBackward(heap, ints, floats): ints [x, dy, dx, daT, dbT, rows, threads, linear (8)]; floats [LoRA scale].
napi_value LinearBackward(napi_env env, napi_callback_info info) {
  Operands o{};
  const int32_t* d = nullptr;
  const double* fl = nullptr;
  if (!layerCall(env, info, 15, 1, &o, &d, &fl, "linearBackward")) return nullptr;
  const int64_t rows = d[5];
  const trirl::LinearW l = o.linear(d + 7, fl[0]);
  if (rows <= 0 || !o.ok || !l.aT) return fail(env, "linearBackward: bad sizes or no LoRA term");
  const float* x = o.at(d[0], rows * l.in);
  const float* dy = o.at(d[1], rows * l.out);
  float* dx = o.at(d[2], rows * l.in);
  float* daT = o.at(d[3], (int64_t)l.in * l.rank);
  float* dbT = o.at(d[4], (int64_t)l.rank * l.out);
  if (!o.ok) return fail(env, "linearBackward reaches past the heap");
  trirl::linearBackward(x, dy, (int)rows, l, dx, daT, dbT, threadsOf(d[6]));
  return nullptr;
}

napi_value IsSupported(napi_env env, napi_callback_info) {
  napi_value out;
  napi_get_boolean(env, trirl::cpuSupported(), &out);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"gemmBatch", nullptr, GemmBatch, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"exp", nullptr, Exp, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"softmaxRows", nullptr, SoftmaxRows, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"rmsNorm", nullptr, RmsNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"attentionHeads", nullptr, AttentionHeads, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"attentionIn", nullptr, AttentionIn, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"attentionOut", nullptr, AttentionOut, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"mlpOut", nullptr, MlpOut, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"linearForward", nullptr, LinearForward, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"linearBackward", nullptr, LinearBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"isSupported", nullptr, IsSupported, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
