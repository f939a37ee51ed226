//===- Manifest.cpp - the runner's description of a model -----------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Conversion/EntryPoint/Manifest.h"
#include "tp/Dialect/TP/IR/TPDialect.h"
#include "tp/Dialect/TP/Transforms/UnpackArguments.h"

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
/// The "inputs" of a function that tp-unpack-arguments rewrote: one entry
/// per argument the caller passes, either {"dtype", "shape", "arg": I} or
/// {"dtype", "shape", "pieces": [{"arg": I, "offset": O, "strides": [...]}]}
/// (a piece's shape is its argument's global_shape). Checks every piece
/// against its argument and the bounds of the original.
FailureOr<llvm::json::Array> describeInputs(func::FuncOp entry,
                                            ArrayAttr originals) {
  llvm::json::Array inputs;
  unsigned numArgs = entry.getNumArguments();
  auto bad = [&](unsigned i) {
    return entry.emitOpError("has an invalid '")
           << kOriginalArgumentsAttrName << "' entry #" << i << ": ";
  };
  auto argIndex = [&](DictionaryAttr dict, unsigned i) -> FailureOr<unsigned> {
    auto arg = dict.getAs<IntegerAttr>("arg");
    if (!arg || arg.getInt() < 0 || arg.getInt() >= int64_t(numArgs))
      return bad(i) << "'arg' must be an argument index (0 to "
                    << numArgs - 1 << ")";
    return unsigned(arg.getInt());
  };
  auto globalType = [&](unsigned arg) {
    if (auto global = entry.getArgAttrOfType<TypeAttr>(
            arg, TPDialect::getGlobalTypeAttrName()))
      return dyn_cast<RankedTensorType>(global.getValue());
    return dyn_cast<RankedTensorType>(entry.getArgumentTypes()[arg]);
  };
  for (auto [i, original] : llvm::enumerate(originals)) {
    auto dict = dyn_cast<DictionaryAttr>(original);
    if (!dict)
      return bad(i) << "expected a dictionary";
    llvm::json::Object input;
    if (!dict.get("pieces")) {
      FailureOr<unsigned> arg = argIndex(dict, i);
      if (failed(arg))
        return failure();
      RankedTensorType type = globalType(*arg);
      if (!type || !type.hasStaticShape())
        return bad(i) << "argument #" << *arg << " is not a static tensor";
      input["dtype"] = getDTypeName(type.getElementType()).str();
      input["shape"] = shapeOf(type.getShape());
      input["arg"] = int64_t(*arg);
      inputs.push_back(std::move(input));
      continue;
    }
    auto typeAttr = dict.getAs<TypeAttr>("type");
    auto type =
        typeAttr ? dyn_cast<RankedTensorType>(typeAttr.getValue()) : nullptr;
    auto pieces = dict.getAs<ArrayAttr>("pieces");
    if (!type || !type.hasStaticShape() || !pieces || pieces.empty())
      return bad(i) << "expected a static tensor 'type' and a non-empty "
                       "array of 'pieces'";
    StringRef dtype = getDTypeName(type.getElementType());
    if (dtype.empty())
      return bad(i) << "unsupported element type " << type.getElementType();
    llvm::json::Array pieceList;
    for (Attribute pieceAttr : pieces) {
      auto piece = dyn_cast<DictionaryAttr>(pieceAttr);
      if (!piece)
        return bad(i) << "a piece must be a dictionary";
      FailureOr<unsigned> arg = argIndex(piece, i);
      if (failed(arg))
        return failure();
      auto offset = piece.getAs<IntegerAttr>("offset");
      auto shape = piece.getAs<DenseI64ArrayAttr>("shape");
      auto strides = piece.getAs<DenseI64ArrayAttr>("strides");
      RankedTensorType argType = globalType(*arg);
      if (!offset || !shape || !strides ||
          shape.size() != strides.size() || !argType ||
          argType.getShape() != shape.asArrayRef() ||
          argType.getElementType() != type.getElementType())
        return bad(i) << "piece for argument #" << *arg
                      << " must have an 'offset', and a 'shape' and "
                         "'strides' of the argument's rank, with its "
                         "global shape and the element type of "
                      << type;
      // The view must stay inside the original.
      int64_t first = offset.getInt(), last = first;
      bool empty = false;
      for (auto [size, stride] : llvm::zip_equal(shape.asArrayRef(),
                                                 strides.asArrayRef())) {
        if (stride < 0)
          return bad(i) << "negative stride";
        empty |= size == 0;
        last += (size - 1) * stride;
      }
      if (!empty && (first < 0 || last >= type.getNumElements()))
        return bad(i) << "piece for argument #" << *arg
                      << " reaches outside the " << type.getNumElements()
                      << " elements of " << type;
      llvm::json::Object out;
      out["arg"] = int64_t(*arg);
      out["offset"] = first;
      out["strides"] = shapeOf(strides.asArrayRef());
      pieceList.push_back(std::move(out));
    }
    input["dtype"] = dtype.str();
    input["shape"] = shapeOf(type.getShape());
    input["pieces"] = std::move(pieceList);
    inputs.push_back(std::move(input));
  }
  return inputs;
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
  // Version 2 adds "inputs": the arguments the caller passes, when they are
  // not the entry function's own (packed arguments cut into pieces).
  manifest["version"] = 1;
  if (auto originals = entry->getAttrOfType<ArrayAttr>(
          kOriginalArgumentsAttrName)) {
    FailureOr<llvm::json::Array> inputs = describeInputs(entry, originals);
    if (failed(inputs))
      return failure();
    manifest["version"] = 2;
    manifest["inputs"] = std::move(*inputs);
  }
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
