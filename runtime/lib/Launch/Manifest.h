//===- Manifest.h - The tp_manifest of a compiled model ---------*- C++ -*-===//
//
// A compiled model exports `const char tp_manifest[]`, a JSON document that
// says how to feed it (see runtime/README.md for the schema):
//   {"format": "tp-manifest", "version": 1, "entry": "mlp", "tp_size": 4,
//    "target": "cpu", "args": [TENSOR...], "results": [TENSOR...]}
//   TENSOR = {"dtype": "f32", "global_shape": [...], "local_shape": [...],
//             "sharding": {"kind": "replicated"}
//                       | {"kind": "split", "dim": D[, "segments": [S...]
//                          [, "replicated_segments": [I...]]]}
//                       | {"kind": "partial", "reduction": "sum"|"max"|"min"}}
// Version 2 adds "inputs", the tensors the caller passes when they are not
// the entry function's arguments one for one (a packed argument cut into
// pieces by tp-unpack-arguments):
//   "inputs": [INPUT...]
//   INPUT = {"dtype": "f32", "shape": [...], "arg": I}   argument I whole
//         | {"dtype": "f32", "shape": [...], "pieces": [PIECE...]}
//   PIECE = {"arg": I, "offset": O, "strides": [...]}
// Argument I is then the strided view of the input that starts at element O
// (row-major) with the argument's global_shape and these element strides.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_LAUNCH_MANIFEST_H
#define TP_RUNTIME_LAUNCH_MANIFEST_H

#include "tp/runtime/tp_runtime.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tp::launch {

enum class ShardKind { Replicated, Split, Partial };

struct Sharding {
  ShardKind kind = ShardKind::Replicated;
  int64_t dim = -1;                ///< Split only
  /// Split only, optional: the split dimension is made of these segments
  /// and each rank holds its equal slice of every one, in segment order.
  std::vector<int64_t> segments;
  /// Indices of segments every rank holds whole (optional, with segments).
  std::vector<int64_t> replicatedSegments;

  bool isSegmentReplicated(size_t i) const;
  /// What one rank holds of segment i.
  int64_t localSegmentSize(size_t i, int64_t tpSize) const;
  tp_reduce_op reduction = TP_SUM; ///< Partial only
};

/// One argument or result of the entry function.
struct TensorSpec {
  tp_dtype dtype = TP_F32;
  std::vector<int64_t> globalShape; ///< the full tensor
  std::vector<int64_t> localShape;  ///< what each rank holds
  Sharding sharding;

  int64_t localElements() const;
  int64_t globalElements() const;
};

/// A piece of a packed input: argument `arg` is the view of the input that
/// starts at element `offset` and has the argument's global shape and these
/// element strides.
struct InputPiece {
  size_t arg = 0;
  int64_t offset = 0;
  std::vector<int64_t> strides;
};

/// A tensor the caller passes: one argument whole, or pieces.
struct InputSpec {
  tp_dtype dtype = TP_F32;
  std::vector<int64_t> shape;
  size_t arg = 0;                 ///< when pieces is empty
  std::vector<InputPiece> pieces; ///< a packed input

  bool isPacked() const { return !pieces.empty(); }
  /// As a replicated tensor (for checks written for arguments).
  TensorSpec asTensor() const;
};

struct Manifest {
  int64_t version = 0;
  std::string entry;  ///< entry function name, for messages ("@mlp")
  int64_t tpSize = 0; ///< number of ranks the model was partitioned for
  std::string target; ///< "cpu" or "gpu"
  std::vector<TensorSpec> args;
  std::vector<TensorSpec> results;
  /// What the caller passes, in order; for a version 1 manifest (or one
  /// without "inputs") every argument whole.
  std::vector<InputSpec> inputs;

  /// The input argument `arg` is cut from, and its piece (-1 when it is the
  /// whole input).
  std::pair<size_t, int> sourceOf(size_t arg) const;
  bool hasPackedInputs() const;
};

/// Parses and validates a manifest; `error` names the offending field
/// ("args[1].sharding: missing field \"dim\"").
bool parseManifest(std::string_view text, Manifest &manifest,
                   std::string &error);

class JsonValue;

/// Parses one TENSOR object of a manifest (`where` prefixes messages) for a
/// model on `tpSize` ranks.
bool parseTensorSpec(const JsonValue &value, const std::string &where,
                     int64_t tpSize, TensorSpec &spec, std::string &error);

/// TENSOR as JSON, the way the compiler writes it.
std::string formatTensorSpec(const TensorSpec &spec);

/// Same dtype, shapes and sharding.
bool operator==(const Sharding &a, const Sharding &b);

/// "replicated", "split(dim=0)", "partial(sum)".
std::string describeSharding(const Sharding &sharding);

/// How a split tensor maps to memory: row-major [outer][extent][inner] where
/// `extent` is the split dimension (global size G, local size L).
struct SplitGeometry {
  int64_t outer = 1;
  int64_t global = 0; ///< G
  int64_t local = 0;  ///< L, with L * tpSize >= G (the rest is padding)
  int64_t inner = 1;
};

/// Geometry of `spec` seen as a split along its split dimension. Replicated
/// and partial tensors are reported as a split of a unit dimension.
SplitGeometry splitGeometry(const TensorSpec &spec);

} // namespace tp::launch

#endif // TP_RUNTIME_LAUNCH_MANIFEST_H
