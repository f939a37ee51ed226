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
/// Reads the entries of kOriginalArgumentsAttrName of `entry` into the
/// manifest's "inputs", checking each against the entry's arguments.
class OriginalsReader {
public:
  explicit OriginalsReader(func::FuncOp entry)
      : entry(entry), numArgs(entry.getNumArguments()) {}

  /// The input of entry #`i`: a kept argument or a packed one.
  FailureOr<llvm::json::Object> describe(Attribute original, unsigned i);

private:
  /// The error for entry #`i`, to be completed by the caller.
  InFlightDiagnostic bad(unsigned i) {
    return entry.emitOpError("has an invalid '")
           << kOriginalArgumentsAttrName << "' entry #" << i << ": ";
  }
  FailureOr<unsigned> argIndex(DictionaryAttr dict, unsigned i);
  RankedTensorType globalType(unsigned arg);
  FailureOr<llvm::json::Object> describeKept(DictionaryAttr dict, unsigned i);
  FailureOr<llvm::json::Object> describePacked(DictionaryAttr dict, unsigned i);
  FailureOr<llvm::json::Object>
  describePiece(Attribute pieceAttr, RankedTensorType type, unsigned i);

  func::FuncOp entry;
  unsigned numArgs;
};

/// The argument index in `dict`'s "arg", checked.
FailureOr<unsigned> OriginalsReader::argIndex(DictionaryAttr dict, unsigned i) {
  auto arg = dict.getAs<IntegerAttr>("arg");
  if (!arg || arg.getInt() < 0 || arg.getInt() >= int64_t(numArgs))
    return bad(i) << "'arg' must be an argument index (0 to " << numArgs - 1
                  << ")";
  return unsigned(arg.getInt());
}

/// Argument `arg`'s global type (its tp.global_type, else its own type).
RankedTensorType OriginalsReader::globalType(unsigned arg) {
  if (auto global = entry.getArgAttrOfType<TypeAttr>(
          arg, TPDialect::getGlobalTypeAttrName()))
    return dyn_cast<RankedTensorType>(global.getValue());
  return dyn_cast<RankedTensorType>(entry.getArgumentTypes()[arg]);
}

/// {"dtype", "shape", "arg": I} for an argument that stayed whole.
FailureOr<llvm::json::Object> OriginalsReader::describeKept(DictionaryAttr dict,
                                                            unsigned i) {
  FailureOr<unsigned> arg = argIndex(dict, i);
  if (failed(arg))
    return failure();
  RankedTensorType type = globalType(*arg);
  if (!type || !type.hasStaticShape())
    return bad(i) << "argument #" << *arg << " is not a static tensor";
  llvm::json::Object input;
  input["dtype"] = getDTypeName(type.getElementType()).str();
  input["shape"] = shapeOf(type.getShape());
  input["arg"] = int64_t(*arg);
  return input;
}

/// {"arg": I, "offset": O, "strides": [...]} for a piece of a packed
/// argument of `type`; the piece's view must stay inside it.
FailureOr<llvm::json::Object>
OriginalsReader::describePiece(Attribute pieceAttr, RankedTensorType type,
                               unsigned i) {
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
  if (!offset || !shape || !strides || shape.size() != strides.size() ||
      !argType || argType.getShape() != shape.asArrayRef() ||
      argType.getElementType() != type.getElementType())
    return bad(i) << "piece for argument #" << *arg
                  << " must have an 'offset', and a 'shape' and "
                     "'strides' of the argument's rank, with its "
                     "global shape and the element type of "
                  << type;
  // The view must stay inside the original.
  int64_t first = offset.getInt(), last = first;
  bool empty = false;
  for (auto [size, stride] :
       llvm::zip_equal(shape.asArrayRef(), strides.asArrayRef())) {
    if (stride < 0)
      return bad(i) << "negative stride";
    empty |= size == 0;
    last += (size - 1) * stride;
  }
  if (!empty && (first < 0 || last >= type.getNumElements()))
    return bad(i) << "piece for argument #" << *arg << " reaches outside the "
                  << type.getNumElements() << " elements of " << type;
  llvm::json::Object out;
  out["arg"] = int64_t(*arg);
  out["offset"] = first;
  out["strides"] = shapeOf(strides.asArrayRef());
  return out;
}

/// {"dtype", "shape", "pieces": [...]} for a packed argument.
FailureOr<llvm::json::Object>
OriginalsReader::describePacked(DictionaryAttr dict, unsigned i) {
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
    FailureOr<llvm::json::Object> piece = describePiece(pieceAttr, type, i);
    if (failed(piece))
      return failure();
    pieceList.push_back(std::move(*piece));
  }
  llvm::json::Object input;
  input["dtype"] = dtype.str();
  input["shape"] = shapeOf(type.getShape());
  input["pieces"] = std::move(pieceList);
  return input;
}

FailureOr<llvm::json::Object> OriginalsReader::describe(Attribute original,
                                                        unsigned i) {
  auto dict = dyn_cast<DictionaryAttr>(original);
  if (!dict)
    return bad(i) << "expected a dictionary";
  if (!dict.get("pieces"))
    return describeKept(dict, i);
  return describePacked(dict, i);
}

/// The "inputs" of a function that tp-unpack-arguments rewrote: one entry
/// per argument the caller passes, either {"dtype", "shape", "arg": I} or
/// {"dtype", "shape", "pieces": [{"arg": I, "offset": O, "strides": [...]}]}
/// (a piece's shape is its argument's global_shape). Checks every piece
/// against its argument and the bounds of the original.
FailureOr<llvm::json::Array> describeInputs(func::FuncOp entry,
                                            ArrayAttr originals) {
  llvm::json::Array inputs;
  OriginalsReader reader(entry);
  for (auto [i, original] : llvm::enumerate(originals)) {
    FailureOr<llvm::json::Object> input = reader.describe(original, i);
    if (failed(input))
      return failure();
    inputs.push_back(std::move(*input));
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
