// trirl native elementwise kernels (AVX2 + FMA); callers check cpuSupported() first.
#pragma once
#include <cstddef>

namespace trirl {

// y[i] = e^x[i]; x and y may be the same array.
void expArray(const float* x, float* y, size_t count);

}  // namespace trirl
