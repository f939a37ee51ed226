//===- ShardSet.h - a result kept as each rank's shard ----------*- C++ -*-===//
//
// Part of tp-mlir.
//
// A shard set is a folder whose name ends in ".shards": one .npy per rank
// that holds a part (rank0.npy, rank1.npy, ...; only rank0.npy for a
// replicated tensor) and shards.json, which says how they make the whole:
//   {"format": "tp-shards", "version": 1, "tp_size": 4,
//    "tensor": {"dtype": ..., "global_shape": [...], "local_shape": [...],
//               "sharding": {...}}}
// with TENSOR as in the manifest (Manifest.h). tp-launch writes one for an
// output named NAME.shards (each rank writes its own file: no all_gather)
// and reads one as an input: a rank whose argument has the set's sharding
// and tp size reads only its own file; any other argument (another tp size,
// another split, the unsharded reference run) is cut from the whole tensor
// assembled from every rank's file.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_LAUNCH_SHARDSET_H
#define TP_RUNTIME_LAUNCH_SHARDSET_H

#include "Launch/Manifest.h"

#include <string>
#include <string_view>
#include <vector>

namespace tp::launch {

/// Whether `path` names a shard set (it ends in ".shards").
bool isShardSetPath(const std::string &path);

/// The file rank `rank` of a shard set holds: DIR/rankR.npy.
std::string shardFilePath(const std::string &dir, int rank);

/// The descriptor file of a shard set: DIR/shards.json.
std::string shardDescriptorPath(const std::string &dir);

/// Whether rank `rank` writes a file in a set of `spec` (every rank of a
/// split tensor, rank 0 of a replicated one).
bool writesShardFile(const TensorSpec &spec, int rank);

/// shards.json for `spec` on `tpSize` ranks. Partial tensors have no shard
/// set (reduce them first).
std::string formatShardDescriptor(const TensorSpec &spec, int64_t tpSize);

/// Parses shards.json; `error` names the offending field.
bool parseShardDescriptor(std::string_view text, TensorSpec &spec,
                          int64_t &tpSize, std::string &error);

/// A shard set as written: its descriptor, read and checked.
struct ShardSet {
  std::string dir;
  TensorSpec spec;
  int64_t tpSize = 0;

  /// Reads DIR/shards.json. False with a message (without the path) if the
  /// folder or the descriptor is missing or invalid.
  bool open(const std::string &path, std::string &error);

  /// Whether rank r of an argument `want` on `wantTpSize` ranks can read its
  /// own file as is (same dtype, shapes, sharding and tp size).
  bool matches(const TensorSpec &want, int64_t wantTpSize) const;

  /// Why an argument `want` (global shape, dtype) cannot come from this set,
  /// or "" if it can.
  std::string incompatibility(const TensorSpec &want) const;

  /// Rank `rank`'s part of `want` (want.localShape elements of want.dtype)
  /// into dst: its own file when matches(), else cut from the whole.
  bool readShard(const TensorSpec &want, int64_t wantTpSize, int rank,
                 void *dst, std::string &error) const;

  /// The whole tensor (spec.globalShape elements of spec.dtype).
  bool assemble(std::vector<unsigned char> &whole, std::string &error) const;

private:
  /// One rank's file, checked against the descriptor, as spec.dtype.
  bool readRankFile(int rank, std::vector<unsigned char> &data,
                    std::string &error) const;
};

} // namespace tp::launch

#endif // TP_RUNTIME_LAUNCH_SHARDSET_H
