//===- Compare.cpp - results side by side ---------------------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "Launch/Compare.h"
#include "Common/DType.h"
#include "Launch/HostLayout.h"
#include "Launch/ShardSet.h"

#include <algorithm>
#include <cmath>

namespace tp::launch {

bool readWholeResult(const std::string &path, npy::Array &array,
                     std::string &error) {
  if (!isShardSetPath(path))
    return npy::read(path, array, error);
  ShardSet set;
  std::vector<unsigned char> whole;
  if (!set.open(path, error) || !set.assemble(whole, error))
    return false;
  array.shape = set.spec.globalShape;
  array.dtype = set.spec.dtype;
  array.data = std::move(whole);
  if (rt::isHalfDType(array.dtype)) {
    std::vector<unsigned char> widened(size_t(array.numElements()) * 4);
    convertElements(array.data.data(), array.dtype, widened.data(), TP_F32,
                    array.numElements());
    array.data = std::move(widened);
    array.dtype = TP_F32;
  }
  return true;
}

namespace {
double elementAsDouble(const npy::Array &a, int64_t i) {
  const unsigned char *p = a.data.data();
  switch (a.dtype) {
  case TP_F32:
    return reinterpret_cast<const float *>(p)[i];
  case TP_F64:
    return reinterpret_cast<const double *>(p)[i];
  case TP_I32:
    return reinterpret_cast<const int32_t *>(p)[i];
  case TP_I64:
    return double(reinterpret_cast<const int64_t *>(p)[i]);
  case TP_F16: {
    float f;
    convertElements(p + 2 * i, TP_F16, &f, TP_F32, 1);
    return f;
  }
  default:
    return NAN;
  }
}
} // namespace

bool compareArrays(const npy::Array &got, const npy::Array &ref,
                   Comparison &c, std::string &error) {
  if (got.shape != ref.shape || got.dtype != ref.dtype) {
    error = "the results differ in shape or dtype (" +
            npy::formatShape(got.shape) + " " + rt::dtypeName(got.dtype) +
            " vs " + npy::formatShape(ref.shape) + " " +
            rt::dtypeName(ref.dtype) + ")";
    return false;
  }
  if (got.dtype == TP_BF16) {
    error = "bf16 arrays are compared as f32 (tp-launch writes them so)";
    return false;
  }
  c = Comparison();
  for (int64_t i = 0, e = got.numElements(); i < e; ++i) {
    double x = elementAsDouble(got, i), y = elementAsDouble(ref, i);
    double d = std::fabs(x - y);
    if (std::isnan(d))
      d = INFINITY;
    c.maxAbs = std::max(c.maxAbs, d);
    c.maxRef = std::max(c.maxRef, std::fabs(y));
  }
  return true;
}

} // namespace tp::launch
