//===- Report.h - what tp-partition chose and what it costs -----*- C++ -*-===//
//
// Part of tp-mlir.
//
// A partition report lists, for one function: every matmul-like op with the
// form chosen for it and why, every collective of the per-rank program with
// its size, and the argument (weight) memory per rank against the unsharded
// program. tp-run --report prints it as a table; tp-partition can write it as
// JSON (report=FILE.json) or print the table (report=-).
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_ANALYSIS_REPORT_H
#define TP_DIALECT_TP_ANALYSIS_REPORT_H

#include "tp/Dialect/TP/Analysis/ShardingSolver.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir {
namespace tp {

/// "file.mlir:12:3" for file locations (looking through fused and named
/// locations), "?" otherwise.
std::string formatLocation(Location loc);

/// True if the rows a lookup (an op with a vocabulary-parallel form) reads
/// become the hidden state of the model: they reach the activation of a
/// weight matmul (a contraction whose other operand is read from a function
/// argument or constant), or a result, through ops that do not reduce (rows
/// written into state an argument carries, a KV cache, do not count). Token
/// embeddings do (vocabulary-parallel is worth its all_reduce); rotary
/// cos/sin rows gathered by position ids meet only activations in the
/// attention's contractions, so they are not weight lookups.
bool isEmbeddingLookup(Operation *lookup);

struct PartitionReport {
  struct Matmul {
    std::string op;       ///< "linalg.matmul"
    std::string location; ///< "model.mlir:31:12"
    std::string form;     ///< "column", "row", "replicated", "split loop 0"
    std::string reason;
  };
  struct Collective {
    std::string op;     ///< "tp.all_reduce"
    std::string detail; ///< "sum", "dim 1", ...
    std::string type;   ///< local operand type
    std::string location;
    int64_t tensorBytes = 0;  ///< bytes of the full (gathered/reduced) tensor
    int64_t trafficBytes = 0; ///< bytes each rank sends (ring algorithm)
  };
  /// A function argument that is the weight of a weight op (the parameter
  /// operand of a matmul-like op, or a lookup's table).
  struct WeightArgument {
    unsigned index = 0;
    std::string type;         ///< its global type
    std::string op;           ///< the weight op reading it ("linalg.matmul")
    std::string location;     ///< the weight op's location
    std::string form;         ///< the weight op's form
    std::string reason;       ///< why the weight op has that form
    int64_t bytes = 0;        ///< unsharded
    int64_t boundBytes = 0;   ///< ceil(bytes / tp-size)
    int64_t bytesPerRank = 0; ///< what one rank holds in the plan
  };
  /// A tensor constant that is the weight of a weight op: every rank's
  /// compiled model holds it whole, whatever the plan says of its weight op
  /// (tp-hoist-constants turns it into an argument read per shard).
  struct ConstantWeight {
    std::string type;     ///< the constant's type
    std::string op;       ///< the weight op reading it
    std::string location; ///< the weight op's location
    std::string form;     ///< the weight op's form
    int64_t bytes = 0;    ///< held by every rank
    int64_t boundBytes = 0; ///< ceil(bytes / tp-size)
  };
  struct Function {
    std::string name;
    int64_t tpSize = 1;
    std::vector<Matmul> matmuls;
    std::vector<Collective> collectives;
    int64_t argumentBytes = 0;        ///< all arguments, unsharded
    int64_t argumentBytesPerRank = 0; ///< all arguments, one rank's part
    /// The plan's lower bound: every weight argument / tp-size, every other
    /// argument whole.
    int64_t argumentBytesLowerBound = 0;
    std::vector<WeightArgument> weights;
    std::vector<ConstantWeight> constantWeights;
    /// The weights above their bound (held whole, in part, or padded), with
    /// their weight op's reason.
    std::vector<WeightArgument> aboveBound() const;
  };
  std::vector<Function> functions;
  /// Graphviz rendering of the planned dataflow (see recordDot).
  std::string dot;

  /// Records the solver's choice for every matmul-like op of `func`. Call
  /// before `func` is rewritten.
  void recordPlan(func::FuncOp func, const ShardingSolver &solver);
  /// Records the collectives and argument memory of the rewritten `func`
  /// (the last function recorded by `recordPlan`).
  void recordPartitioned(func::FuncOp func);

  /// Appends a Graphviz digraph of `func`'s dataflow to `dot`: one node per
  /// argument and op (with the sharding of its results, the form of
  /// matmul-like ops and what a linalg.generic computes: transpose, bias add,
  /// GELU, softmax's parts, norm, ...), constants, tensor.empty and
  /// linalg.fill left out; one edge per use, coloured by the sharding it
  /// carries (replicated, split, partial), red with the collective's name
  /// where a value changes sharding; the ops up to each row-parallel weight
  /// op clustered as a block. Call before `func` is rewritten.
  void recordDot(func::FuncOp func, const ShardingSolver &solver);

  void printTable(llvm::raw_ostream &os) const;
  llvm::json::Value toJSON() const;
};

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_ANALYSIS_REPORT_H
