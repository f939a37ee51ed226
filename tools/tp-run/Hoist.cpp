//===- Hoist.cpp - tp-run: weights that arrive as constants ---------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "Hoist.h"
#include "Weights.h"

#include "Launch/Safetensors.h"
#include "tp/Dialect/TP/IR/TPDialect.h"
#include "tp/Dialect/TP/Transforms/Passes.h"
#include "tp/runtime/files.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
namespace st = ::tp::launch::safetensors;

namespace tp_run {

LogicalResult hoistConstants(ModuleOp module, func::FuncOp entry,
                             int64_t minBytes, HoistedWeights &hoisted) {
  PassManager pm(module.getContext());
  mlir::tp::TPHoistConstantsOptions options;
  options.minBytes = minBytes;
  pm.addPass(mlir::tp::createTPHoistConstants(options));
  if (failed(pm.run(module)))
    return failure();
  hoisted.data = module->getAttrOfType<DictionaryAttr>(
      mlir::tp::TPDialect::getHoistedConstantsAttrName());
  module->removeAttr(mlir::tp::TPDialect::getHoistedConstantsAttrName());
  for (unsigned i = 0, e = entry.getNumArguments(); i < e; ++i)
    if (auto name = entry.getArgAttrOfType<StringAttr>(
            i, mlir::tp::TPDialect::getHoistedAttrName())) {
      hoisted.tensorFor[i] = name.str();
      auto type = cast<RankedTensorType>(entry.getArgumentTypes()[i]);
      hoisted.bytes +=
          type.getNumElements() * int64_t(type.getElementTypeBitWidth() / 8);
    }
  return success();
}

namespace {

/// The raw little-endian bytes of a hoisted constant (the pass hoists only
/// non-splat dense elements and dense_resource blobs with their data).
const void *rawData(ElementsAttr value) {
  if (auto dense = dyn_cast<DenseIntOrFPElementsAttr>(value))
    return dense.getRawData().data();
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
    if (const AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      return blob->getData().data();
  return nullptr;
}


} // namespace

bool writeHoistedWeights(const HoistedWeights &hoisted, const std::string &path,
                         std::string &error) {
  std::vector<st::TensorData> tensors;
  for (const auto &[index, name] : hoisted.tensorFor) {
    auto value =
        hoisted.data ? hoisted.data.getAs<ElementsAttr>(name) : ElementsAttr();
    st::TensorData tensor;
    tensor.name = name;
    tensor.data = value ? rawData(value) : nullptr;
    if (!tensor.data ||
        !dtypeOf(value.getShapedType().getElementType(), tensor.dtype)) {
      error = "no data for the hoisted constant '" + name + "' (argument " +
              std::to_string(index) + ")";
      return false;
    }
    ArrayRef<int64_t> shape = value.getShapedType().getShape();
    tensor.shape.assign(shape.begin(), shape.end());
    tensors.push_back(std::move(tensor));
  }
  ::tp::files::OutputFile out;
  return out.open(path, error) &&
         st::write(out.fd(), tensors, {{"format", "tp-mlir"}}, error) &&
         out.finish(error) && out.commit(error);
}

} // namespace tp_run
