//===- Manifest.cpp - the runner's description of a model -----------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Conversion/EntryPoint/Manifest.h"
#include "tp/Dialect/TP/IR/TPDialect.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::tp;

func::FuncOp mlir::tp::findEntryFunction(ModuleOp module, StringRef name) {
  if (!name.empty()) {
    auto func = module.lookupSymbol<func::FuncOp>(name);
    if (!func || func.isExternal()) {
      module.emitError("entry function @") << name << " not found";
      return {};
    }
    return func;
  }
  func::FuncOp found;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal() || func.isPrivate())
      continue;
    if (found) {
      module.emitError("several public functions (@")
          << found.getName() << ", @" << func.getName()
          << "); name the entry function (entry=...)";
      return {};
    }
    found = func;
  }
  if (!found)
    module.emitError("no public function with a body to use as entry");
  return found;
}

StringRef mlir::tp::getDTypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF64())
    return "f64";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isSignlessInteger(32))
    return "i32";
  if (type.isSignlessInteger(64))
    return "i64";
  return "";
}

namespace {
llvm::json::Array shapeOf(ArrayRef<int64_t> shape) {
  llvm::json::Array result;
  for (int64_t s : shape)
    result.push_back(s);
  return result;
}

llvm::json::Object shardingOf(ShardingAttr sharding) {
  llvm::json::Object result;
  result["kind"] = stringifyShardingKind(sharding.getKind()).str();
  if (sharding.isSplit())
    result["dim"] = sharding.getDim();
  if (sharding.isSegmented())
    result["segments"] = shapeOf(sharding.getSegments());
  if (!sharding.getReplicatedSegments().empty())
    result["replicated_segments"] = shapeOf(sharding.getReplicatedSegments());
  if (sharding.isPartial())
    result["reduction"] = stringifyReductionKind(sharding.getReduction()).str();
  return result;
}

/// Describes one argument or result; `attrs` are its argument/result
/// attributes.
FailureOr<llvm::json::Object> describe(func::FuncOp entry, Type localType,
                                       DictionaryAttr attrs, StringRef what,
                                       unsigned index) {
  auto local = dyn_cast<RankedTensorType>(localType);
  if (!local || !local.hasStaticShape())
    return entry.emitOpError("cannot be run: ")
           << what << " #" << index << " has type " << localType
           << "; entry functions take and return statically shaped tensors";
  StringRef dtype = getDTypeName(local.getElementType());
  if (dtype.empty())
    return entry.emitOpError("cannot be run: ")
           << what << " #" << index << " has element type "
           << local.getElementType()
           << "; supported: f32, f64, f16, bf16, i32, i64";
  auto sharding = attrs ? attrs.getAs<ShardingAttr>(
                              TPDialect::getShardingAttrName())
                        : ShardingAttr();
  auto global = attrs ? attrs.getAs<TypeAttr>(
                            TPDialect::getGlobalTypeAttrName())
                      : TypeAttr();
  if (!sharding)
    sharding = ShardingAttr::getReplicated(entry.getContext());
  auto globalType =
      global ? dyn_cast<RankedTensorType>(global.getValue()) : local;
  if (!globalType || !globalType.hasStaticShape())
    return entry.emitOpError("cannot be run: ")
           << what << " #" << index << " has a non-static global type";
  llvm::json::Object result;
  result["dtype"] = dtype.str();
  result["global_shape"] = shapeOf(globalType.getShape());
  result["local_shape"] = shapeOf(local.getShape());
  result["sharding"] = shardingOf(sharding);
  return result;
}
} // namespace

FailureOr<std::string> mlir::tp::buildManifest(func::FuncOp entry,
                                               int64_t tpSize,
                                               StringRef target) {
  llvm::json::Array args, results;
  for (auto [i, type] : llvm::enumerate(entry.getArgumentTypes())) {
    FailureOr<llvm::json::Object> arg =
        describe(entry, type, entry.getArgAttrDict(i), "argument", i);
    if (failed(arg))
      return failure();
    args.push_back(std::move(*arg));
  }
  if (entry.getNumResults() == 0)
    return entry.emitOpError("cannot be run: it returns nothing");
  for (auto [i, type] : llvm::enumerate(entry.getResultTypes())) {
    FailureOr<llvm::json::Object> result =
        describe(entry, type, entry.getResultAttrDict(i), "result", i);
    if (failed(result))
      return failure();
    results.push_back(std::move(*result));
  }
  llvm::json::Object manifest;
  manifest["format"] = "tp-manifest";
  manifest["version"] = 1;
  manifest["entry"] = entry.getName().str();
  manifest["tp_size"] = tpSize;
  manifest["target"] = target.str();
  manifest["args"] = std::move(args);
  manifest["results"] = std::move(results);
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(manifest));
  return text;
}
