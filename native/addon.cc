// Node-API entry points of trirl's native kernels (native/sgemm.cc). They work in place on the
// tfjs wasm backend's heap: JS passes the heap's ArrayBuffer and float offsets into it, so no
// tensor is copied in or out.
#include <node_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "elementwise.h"
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

napi_value IsSupported(napi_env env, napi_callback_info) {
  napi_value out;
  napi_get_boolean(env, trirl::cpuSupported(), &out);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"gemmBatch", nullptr, GemmBatch, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"exp", nullptr, Exp, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"isSupported", nullptr, IsSupported, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
