// Node-API entry points of trirl's native kernels (native/sgemm.cc, elementwise.cc, fused.cc). They work in place on the
// tfjs wasm backend's heap: JS passes the heap's ArrayBuffer and float offsets into it, so no
// tensor is copied in or out.
#include <node_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "elementwise.h"
#include "fused.h"
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

// gemmBatch(heap: ArrayBuffer, products: Int32Array, threads: number): undefined
// products: 8 ints per product: aOffset, bOffset, cOffset (in floats), m, n, k, transA, transB.
napi_value GemmBatch(napi_env env, napi_callback_info info) {
  napi_value args[3];
  float* f = nullptr;
  size_t heapFloats = 0;
  if (!heapCall(env, info, 3, args, &f, &heapFloats, "gemmBatch expects (heap, products, threads)")) return nullptr;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, args[1], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_int32_array || length % 8 != 0)
    return fail(env, "products must be an Int32Array of 8 ints per product");
  int32_t threads = 1;
  napi_get_value_int32(env, args[2], &threads);
  const int32_t* d = static_cast<const int32_t*>(data);
  std::vector<trirl::Gemm> products;
  for (size_t p = 0; p < length / 8; p++, d += 8) {
    const int64_t m = d[3], n = d[4], k = d[5];
    if (m < 0 || n < 0 || k < 0 || d[0] < 0 || d[1] < 0 || d[2] < 0) return fail(env, "negative offset or size");
    if ((uint64_t)d[0] + m * k > heapFloats || (uint64_t)d[1] + k * n > heapFloats || (uint64_t)d[2] + m * n > heapFloats)
      return fail(env, "a product reaches past the end of the heap");
    products.push_back({f + d[0], f + d[1], f + d[2], (int)m, (int)n, (int)k, d[6] != 0, d[7] != 0});
  }
  trirl::gemmBatch(products.data(), (int)products.size(), threads < 1 ? 1 : threads);
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
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, args[1], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_int32_array || length != 9)
    return fail(env, "attentionHeads: ints must be an Int32Array of 9");
  const int32_t* d = static_cast<const int32_t*>(data);
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

napi_value IsSupported(napi_env env, napi_callback_info) {
  napi_value out;
  napi_get_boolean(env, trirl::cpuSupported(), &out);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"gemmBatch", nullptr, GemmBatch, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"exp", nullptr, Exp, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"rmsNorm", nullptr, RmsNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"attentionHeads", nullptr, AttentionHeads, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"isSupported", nullptr, IsSupported, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
