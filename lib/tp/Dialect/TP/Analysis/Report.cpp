//===- Report.cpp - what tp-partition chose and what it costs -------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Analysis/Report.h"
#include "tp/Dialect/TP/Analysis/Parameters.h"
#include "tp/Dialect/TP/IR/TPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;
using namespace mlir::tp;

std::string mlir::tp::formatLocation(Location loc) {
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return llvm::formatv("{0}:{1}:{2}", file.getFilename().getValue(),
                         file.getLine(), file.getColumn())
        .str();
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (isa<FileLineColLoc, NameLoc>(inner))
        return formatLocation(inner);
  return "?";
}

static std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

/// What `value` is read from through views, slices, transposes and copies
/// (ops with one tensor input and no reduction): a block argument or the
/// result of some other op.
static Value traceToSource(Value value) {
  for (int step = 0; step < 32; ++step) {
    Operation *def = value.getDefiningOp();
    if (!def)
      return value;
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp,
            tensor::ExtractSliceOp, tensor::CastOp>(def)) {
      value = def->getOperand(0);
      continue;
    }
    auto linalgOp = dyn_cast<linalg::LinalgOp>(def);
    if (!linalgOp || linalgOp.getNumDpsInputs() != 1 ||
        linalgOp.getNumReductionLoops() != 0)
      return value;
    value = linalgOp.getDpsInputOperand(0)->get();
  }
  return value;
}

/// The argument of `body` that `value` is read from (see traceToSource), or
/// null.
static BlockArgument traceToArgument(Value value, Block *body) {
  auto arg = dyn_cast<BlockArgument>(traceToSource(value));
  return arg && arg.getOwner() == body ? arg : BlockArgument();
}

/// The weight operands of a weight op: the operand of a two-input
/// contraction that does not carry its M (token) dimensions (its other
/// input is `activation`), and the table of a lookup (the tensor its
/// vocabulary-parallel form captures).
static SmallVector<Value> getWeightOperands(Operation *op,
                                            ArrayRef<ShardingOption> options,
                                            std::optional<unsigned> activation,
                                            bool *isLookup = nullptr) {
  SmallVector<Value> weights;
  for (const ShardingOption &o : options)
    if (o.kind == ParallelKind::Vocab && !o.captures.empty()) {
      weights.push_back(o.captures.front().first);
      if (isLookup)
        *isLookup = true;
      return weights;
    }
  // The other input of a contraction whose activation is one of its inputs.
  if (activation)
    weights.push_back(op->getOperand(*activation == 0 ? 1 : 0));
  return weights;
}

/// The same for an op whose options are not at hand.
static SmallVector<Value> getWeightOperands(Operation *op, int64_t tpSize) {
  SmallVector<ShardingOption> options;
  if (auto iface = dyn_cast<ShardingOpInterface>(op))
    iface.getShardingOptions(tpSize, options);
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return getWeightOperands(
      op, options, linalgOp ? getActivationOperand(linalgOp) : std::nullopt);
}

/// True if `value` is read from a parameter argument (not an activation or
/// gradient, see Parameters.h) or a constant (see traceToSource).
static bool isParameterLike(Value value, Block *body) {
  Value source = traceToSource(value);
  if (auto arg = dyn_cast<BlockArgument>(source))
    return arg.getOwner() == body && isParameterArgument(arg);
  Operation *def = source.getDefiningOp();
  return def && def->hasTrait<OpTrait::ConstantLike>();
}

bool mlir::tp::isEmbeddingLookup(Operation *lookup) {
  Block *body = lookup->getBlock();
  SmallVector<Value> worklist(lookup->getResults());
  llvm::SmallPtrSet<Operation *, 32> visited;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = body->findAncestorOpInBlock(*use.getOwner());
      if (!user)
        continue;
      if (user->hasTrait<OpTrait::IsTerminator>())
        return true;
      // Rows written into state that an argument carries (a KV cache
      // updated at a position) are not the hidden state, even when the
      // updated state is returned.
      if (auto insert = dyn_cast<tensor::InsertSliceOp>(user);
          insert && use.get() == insert.getSource() &&
          isa<BlockArgument>(traceToSource(insert.getDest())))
        continue;
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
          linalgOp && linalgOp.getNumReductionLoops() > 0) {
        for (Value weight : getWeightOperands(user, /*tpSize=*/2))
          if (weight != use.get() && isParameterLike(weight, body))
            return true;
        continue; // A reduction, or a contraction of activations.
      }
      if (isa<linalg::SoftmaxOp>(user) || !visited.insert(user).second)
        continue;
      llvm::append_range(worklist, user->getResults());
    }
  }
  return false;
}

static int64_t saturatingBytes(double bytes);

/// A weight op's row of the plan: its form and why it has it.
static PartitionReport::Matmul describeWeightOp(Operation &op,
                                                const ShardingSolver &solver) {
  PartitionReport::Matmul m;
  m.op = op.getName().getStringRef().str();
  m.location = formatLocation(op.getLoc());
  const ShardingOption *option = solver.getChosenOption(&op);
  if (!option || option->isReplicated())
    m.form = "replicated";
  else if (option->kind == ParallelKind::Other)
    m.form = llvm::formatv("split loop {0}", option->loopDim).str();
  else
    m.form = stringifyParallelKind(option->kind).str();
  if (auto planned =
          op.getAttrOfType<StringAttr>(TPDialect::getPlanReasonAttrName()))
    m.reason = "planned: " + planned.getValue().str();
  else if (solver.isAnnotated(&op))
    m.reason = "annotated (tp.parallel)";
  else if (solver.getTPSize() == 1)
    m.reason = "tp-size 1";
  else
    m.reason = "propagated: cheapest given its neighbours";
  return m;
}

void PartitionReport::recordPlan(func::FuncOp func,
                                 const ShardingSolver &solver) {
  Function &f = functions.emplace_back();
  f.name = func.getName().str();
  f.tpSize = solver.getTPSize();
  Block &body = func.getBody().front();
  const ShardingProblem &problem = solver.getProblem();
  const ParameterArguments &parameters = problem.getParameters();
  llvm::SmallDenseSet<unsigned> seen;
  llvm::SmallPtrSet<Operation *, 8> seenConstants;
  // By the problem's table: the other ops' IR is not touched.
  for (auto [index, weightOp] : llvm::enumerate(problem.getOps())) {
    if (!problem.isWeightOpLikeAt(index))
      continue;
    Operation &op = *weightOp;
    Matmul m = describeWeightOp(op, solver);
    bool lookup = false;
    SmallVector<Value> weights =
        getWeightOperands(&op, problem.getOptions(&op),
                          problem.getActivationOperand(&op), &lookup);
    // Lookups whose rows are not the model's hidden state (rotary tables
    // gathered by position) are not weight ops.
    if (lookup && !isEmbeddingLookup(&op))
      weights.clear();
    for (Value weight : weights) {
      // A constant weight stays whole in every rank's model.
      if (Operation *def = traceToSource(weight).getDefiningOp();
          def && def->hasTrait<OpTrait::ConstantLike>() &&
          isa<RankedTensorType>(def->getResult(0).getType())) {
        if (!seenConstants.insert(def).second)
          continue;
        ConstantWeight c;
        Type type = def->getResult(0).getType();
        c.type = typeString(type);
        c.op = m.op;
        c.location = m.location;
        c.form = m.form;
        c.bytes = saturatingBytes(CostModel::getBytes(type));
        c.boundBytes = f.tpSize > 0 ? c.bytes / f.tpSize +
                                          (c.bytes % f.tpSize != 0)
                                    : c.bytes;
        f.constantWeights.push_back(std::move(c));
        continue;
      }
      BlockArgument arg = traceToArgument(weight, &body);
      // An activation or gradient on the weight side (dW2 = h^T g) is no
      // weight: it is not held at 1/tp in the lower bound.
      if (!arg || !parameters.contains(arg) ||
          !seen.insert(arg.getArgNumber()).second)
        continue;
      WeightArgument w;
      w.index = arg.getArgNumber();
      w.type = typeString(arg.getType());
      w.op = m.op;
      w.location = m.location;
      w.form = m.form;
      w.reason = m.reason;
      f.weights.push_back(std::move(w));
    }
    f.matmuls.push_back(std::move(m));
  }
}

std::vector<PartitionReport::WeightArgument>
PartitionReport::Function::aboveBound() const {
  std::vector<WeightArgument> above;
  for (const WeightArgument &w : weights)
    if (w.bytesPerRank > w.boundBytes)
      above.push_back(w);
  return above;
}

/// Byte counts saturate at INT64_MAX instead of wrapping (or, converting
/// from double, being undefined): no tensor that large can exist, and the
/// report must still say "huge", not a negative or small number.
static int64_t saturatingBytes(double bytes) {
  // 2^63, the first double above INT64_MAX.
  constexpr double kLimit = 9223372036854775808.0;
  if (!(bytes < kLimit))
    return std::numeric_limits<int64_t>::max();
  return bytes > 0 ? static_cast<int64_t>(bytes) : 0;
}

static int64_t addBytes(int64_t a, int64_t b) {
  int64_t sum;
  if (llvm::AddOverflow(a, b, sum))
    return std::numeric_limits<int64_t>::max();
  return sum;
}

void PartitionReport::recordPartitioned(func::FuncOp func) {
  if (functions.empty() || functions.back().name != func.getName())
    functions.emplace_back().name = func.getName().str();
  Function &f = functions.back();
  int64_t p = f.tpSize;
  auto bytesOf = [](Type type) {
    return saturatingBytes(CostModel::getBytes(type));
  };
  func.walk([&](Operation *op) {
    if (!isa<AllReduceOp, AllGatherOp, ReduceScatterOp>(op))
      return;
    Collective c;
    c.location = formatLocation(op->getLoc());
    c.op = op->getName().getStringRef().str();
    double ring = double(p - 1) / double(p);
    if (auto ar = dyn_cast<AllReduceOp>(op)) {
      c.detail = stringifyReductionKind(ar.getKind()).str();
      c.type = typeString(ar.getType());
      c.tensorBytes = bytesOf(ar.getType());
      c.trafficBytes = saturatingBytes(2 * ring * double(c.tensorBytes));
    } else if (auto ag = dyn_cast<AllGatherOp>(op)) {
      c.detail = llvm::formatv("dim {0}", ag.getDim()).str();
      c.type = typeString(ag.getInput().getType());
      c.tensorBytes = bytesOf(ag.getType());
      c.trafficBytes = saturatingBytes(ring * double(c.tensorBytes));
    } else if (auto rs = dyn_cast<ReduceScatterOp>(op)) {
      c.detail =
          llvm::formatv("{0} dim {1}", stringifyReductionKind(rs.getKind()),
                        rs.getDim())
              .str();
      c.type = typeString(rs.getInput().getType());
      c.tensorBytes = bytesOf(rs.getInput().getType());
      c.trafficBytes = saturatingBytes(ring * double(c.tensorBytes));
    } else {
      return;
    }
    f.collectives.push_back(std::move(c));
  });
  f.argumentBytes = 0;
  f.argumentBytesPerRank = 0;
  f.argumentBytesLowerBound = 0;
  DenseMap<unsigned, WeightArgument *> weightOf;
  for (WeightArgument &w : f.weights)
    weightOf[w.index] = &w;
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    int64_t local = bytesOf(type);
    auto global =
        func.getArgAttrOfType<TypeAttr>(i, TPDialect::getGlobalTypeAttrName());
    int64_t whole = bytesOf(global ? global.getValue() : type);
    f.argumentBytesPerRank = addBytes(f.argumentBytesPerRank, local);
    f.argumentBytes = addBytes(f.argumentBytes, whole);
    auto w = weightOf.find(i);
    if (w == weightOf.end() || p < 1) {
      f.argumentBytesLowerBound = addBytes(f.argumentBytesLowerBound, whole);
      continue;
    }
    w->second->bytes = whole;
    w->second->boundBytes = whole / p + (whole % p != 0);
    w->second->bytesPerRank = local;
    f.argumentBytesLowerBound =
        addBytes(f.argumentBytesLowerBound, w->second->boundBytes);
  }
}

static std::string humanBytes(int64_t bytes) {
  if (bytes >= (int64_t(1) << 30))
    return llvm::formatv("{0:f2} GiB", double(bytes) / (1 << 30)).str();
  if (bytes >= (1 << 20))
    return llvm::formatv("{0:f2} MiB", double(bytes) / (1 << 20)).str();
  if (bytes >= (1 << 10))
    return llvm::formatv("{0:f1} KiB", double(bytes) / (1 << 10)).str();
  return llvm::formatv("{0} B", bytes).str();
}

void PartitionReport::printTable(llvm::raw_ostream &os) const {
  for (const Function &f : functions) {
    os << "tp plan for @" << f.name << " at tp-size " << f.tpSize << "\n";
    os << "  weight ops (matmul-like and lookups):\n";
    if (f.matmuls.empty())
      os << "    (none)\n";
    for (const Matmul &m : f.matmuls)
      os << llvm::formatv("    {0,-22} {1,-12} {2,-28} {3}\n", m.op, m.form,
                          m.location, m.reason);
    os << "  collectives (ring algorithm; traffic = bytes each rank sends):\n";
    if (f.collectives.empty())
      os << "    (none)\n";
    int64_t total = 0;
    for (const Collective &c : f.collectives) {
      os << llvm::formatv("    {0,-18} {1,-10} {2,-26} tensor {3,-10} traffic "
                          "{4,-10} {5}\n",
                          c.op, c.detail, c.type, humanBytes(c.tensorBytes),
                          humanBytes(c.trafficBytes), c.location);
      total = addBytes(total, c.trafficBytes);
    }
    os << llvm::formatv("  total traffic per rank per step: {0} in {1} "
                        "collective(s)\n",
                        humanBytes(total), f.collectives.size());
    double ratio = f.argumentBytes ? double(f.argumentBytesPerRank) /
                                         double(f.argumentBytes)
                                   : 1.0;
    os << llvm::formatv("  argument (weight) memory per rank: {0} of {1} "
                        "unsharded ({2:f3}x)\n",
                        humanBytes(f.argumentBytesPerRank),
                        humanBytes(f.argumentBytes), ratio);
    double bound = f.argumentBytes ? double(f.argumentBytesLowerBound) /
                                         double(f.argumentBytes)
                                   : 1.0;
    os << llvm::formatv("  lower bound (each weight op's weight / tp-size, "
                        "the rest whole): {0} ({1:f3}x)\n",
                        humanBytes(f.argumentBytesLowerBound), bound);
    std::vector<WeightArgument> above = f.aboveBound();
    if (above.empty())
      os << "  weights above the bound: none\n";
    else
      os << "  weights above the bound:\n";
    for (const WeightArgument &w : above)
      os << llvm::formatv("    argument #{0} {1}: {2} per rank (bound {3}); "
                          "{4} {5} at {6}: {7}\n",
                          w.index, w.type, humanBytes(w.bytesPerRank),
                          humanBytes(w.boundBytes), w.op, w.form, w.location,
                          w.reason);
    if (f.constantWeights.empty())
      continue;
    // The figures above count arguments; constant weights are not among
    // them, and no plan shrinks them.
    int64_t held = 0, heldBound = 0;
    for (const ConstantWeight &c : f.constantWeights) {
      held = addBytes(held, c.bytes);
      heldBound = addBytes(heldBound, c.boundBytes);
    }
    os << llvm::formatv("  weight constants, whole in every rank's model "
                        "whatever the plan: {0} per rank (bound {1}); "
                        "tp-hoist-constants makes them arguments read per "
                        "shard (tp-run does by default)\n",
                        humanBytes(held), humanBytes(heldBound));
    for (const ConstantWeight &c : f.constantWeights)
      os << llvm::formatv("    constant {0}: {1} per rank (bound {2}); {3} "
                          "{4} at {5}\n",
                          c.type, humanBytes(c.bytes),
                          humanBytes(c.boundBytes), c.op, c.form, c.location);
  }
}

llvm::json::Value PartitionReport::toJSON() const {
  llvm::json::Array fs;
  for (const Function &f : functions) {
    llvm::json::Array ms, cs;
    for (const Matmul &m : f.matmuls)
      ms.push_back(llvm::json::Object{{"op", m.op},
                                      {"location", m.location},
                                      {"form", m.form},
                                      {"reason", m.reason}});
    llvm::json::Array above;
    for (const WeightArgument &w : f.aboveBound())
      above.push_back(llvm::json::Object{{"argument", int64_t(w.index)},
                                         {"type", w.type},
                                         {"op", w.op},
                                         {"location", w.location},
                                         {"form", w.form},
                                         {"reason", w.reason},
                                         {"bytes", w.bytes},
                                         {"bound_bytes", w.boundBytes},
                                         {"bytes_per_rank", w.bytesPerRank}});
    llvm::json::Array constants;
    for (const ConstantWeight &c : f.constantWeights)
      constants.push_back(llvm::json::Object{{"type", c.type},
                                             {"op", c.op},
                                             {"location", c.location},
                                             {"form", c.form},
                                             {"bytes_per_rank", c.bytes},
                                             {"bound_bytes", c.boundBytes}});
    int64_t total = 0;
    for (const Collective &c : f.collectives) {
      cs.push_back(llvm::json::Object{{"op", c.op},
                                      {"detail", c.detail},
                                      {"type", c.type},
                                      {"location", c.location},
                                      {"tensor_bytes", c.tensorBytes},
                                      {"traffic_bytes", c.trafficBytes}});
      total = addBytes(total, c.trafficBytes);
    }
    fs.push_back(llvm::json::Object{
        {"function", f.name},
        {"tp_size", f.tpSize},
        {"matmuls", std::move(ms)},
        {"collectives", std::move(cs)},
        {"traffic_bytes_per_step", total},
        {"argument_bytes", f.argumentBytes},
        {"argument_bytes_per_rank", f.argumentBytesPerRank},
        {"argument_bytes_lower_bound", f.argumentBytesLowerBound},
        {"weights_above_bound", std::move(above)},
        {"constant_weights", std::move(constants)}});
  }
  return llvm::json::Object{{"format", "tp-plan-report"},
                            {"version", 1},
                            {"functions", std::move(fs)}};
}

static std::string shardingString(ShardingAttr s) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << stringifyShardingKind(s.getKind());
  if (s.isSplit())
    os << " " << s.getDim();
  if (s.getGranule() != 1)
    os << " granule " << s.getGranule();
  if (s.isSegmented()) {
    os << " segments [";
    llvm::interleaveComma(s.getSegments(), os);
    os << "]";
    if (!s.getReplicatedSegments().empty()) {
      os << " replicated [";
      llvm::interleaveComma(s.getReplicatedSegments(), os);
      os << "]";
    }
  }
  if (s.isPartial())
    os << " " << stringifyReductionKind(s.getReduction());
  return text;
}

static std::string escapeDot(StringRef text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\')
      out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

/// Ops the picture leaves out: scalar and splat constants, tensor.empty and
/// linalg.fill (init values). They carry no data worth drawing, and scalar
/// constants used inside bodies would be unconnected nodes.
static bool isFoldedInDot(Operation *op) {
  if (isa<tensor::EmptyOp, linalg::FillOp>(op))
    return true;
  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
    return !dense || dense.isSplat();
  }
  return false;
}

/// What a linalg.generic computes, from its body and indexing maps: the
/// names a reader of a transformer looks for (transpose, bias add, GELU,
/// softmax's max / exp / sum, norm), else the body's ops.
static std::string describeGeneric(linalg::GenericOp generic) {
  Block &body = generic.getRegion().front();
  llvm::SmallVector<StringRef> names;
  llvm::StringSet<> ops;
  for (Operation &op : body.without_terminator()) {
    StringRef name = op.getName().stripDialect();
    if (ops.insert(name).second)
      names.push_back(name);
  }
  auto has = [&](StringRef name) { return ops.contains(name); };
  bool reduces = generic.getNumReductionLoops() > 0;
  unsigned inputs = generic.getNumDpsInputs();
  bool broadcasts =
      llvm::any_of(generic.getDpsInputOperands(), [&](OpOperand *in) {
        AffineMap map = generic.getMatchingIndexingMap(in);
        return isa<RankedTensorType>(in->get().getType()) &&
               map.getNumResults() < map.getNumDims();
      });
  // Data movement: the body yields an input element unchanged.
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (names.empty() && yield.getNumOperands() == 1) {
    auto arg = dyn_cast<BlockArgument>(yield.getOperand(0));
    if (arg && arg.getArgNumber() < inputs) {
      AffineMap map = generic.getMatchingIndexingMap(
          generic.getDpsInputOperand(arg.getArgNumber()));
      if (map.isPermutation())
        return map.isIdentity() ? "copy" : "transpose";
      return "broadcast";
    }
  }
  if (has("tanh") || has("erf"))
    return "GELU";
  if (has("rsqrt") || has("sqrt"))
    return "norm";
  if (has("sin") || has("cos"))
    return "rotary";
  if (reduces) {
    if (has("maximumf") || has("maxnumf"))
      return "max (softmax)";
    if (has("mulf") && has("addf"))
      return inputs >= 2 ? "contraction" : "sum of squares";
    if (has("addf"))
      return "sum";
    return "reduction";
  }
  if (has("exp") && has("negf"))
    return has("mulf") && inputs >= 2 ? "SiLU gate (SwiGLU)" : "sigmoid / SiLU";
  if (has("exp"))
    return has("subf") ? "exp (softmax)" : "exp";
  if (has("cmpf") || has("cmpi") || has("select"))
    return "mask";
  if (names.size() == 1 && names[0] == "addf")
    return broadcasts ? "bias add" : "add";
  if (names.size() == 1 && names[0] == "divf")
    return broadcasts ? "divide by row" : "divide";
  if (names.size() == 1 && names[0] == "mulf")
    return broadcasts ? "scale" : "multiply";
  std::string text = "elementwise:";
  for (StringRef name : llvm::ArrayRef(names).take_front(3))
    text += " " + name.str();
  if (names.size() > 3)
    text += " ...";
  return text;
}

/// Edge colours by the sharding of the value they carry.
static StringRef shardingColor(ShardingAttr s) {
  if (s.isPartial())
    return "darkorange";
  if (s.isSplit())
    return "blue";
  return "gray40";
}

/// The graph's opening lines (title, legend, styles) and a node per
/// argument of `body`, each recorded in `nodeOf`.
static void writeDotHeader(llvm::raw_ostream &os, func::FuncOp func,
                           const ShardingSolver &solver,
                           DenseMap<Value, std::string> &nodeOf) {
  os << "digraph \"" << escapeDot(func.getName()) << "\" {\n"
     << "  label=\"@" << escapeDot(func.getName()) << " at tp-size "
     << solver.getTPSize()
     << "\\nedges: gray = replicated, blue = split, orange = partial sum, "
        "red = a collective\";\n"
     << "  node [shape=box, fontname=\"monospace\", fontsize=10];\n"
     << "  edge [fontname=\"monospace\", fontsize=9];\n";
  Block &body = func.getBody().front();
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    std::string id = "arg" + std::to_string(i);
    nodeOf[arg] = id;
    std::string type = typeString(arg.getType());
    os << "  " << id << " [shape=ellipse, label=\"%arg" << i << " : "
       << escapeDot(type) << "\\n"
       << shardingString(solver.getSharding(arg)) << "\"];\n";
  }
}

/// The label of `op`'s node: its name (and what a generic computes), its
/// parallel kind and result shardings, and its location, escaped for
/// Graphviz with "\\n" between lines.
static std::string dotLabel(Operation *op, const ShardingSolver &solver) {
  std::string label = escapeDot(op->getName().getStringRef());
  if (auto generic = dyn_cast<linalg::GenericOp>(op))
    label += ": " + escapeDot(describeGeneric(generic));
  if (const ShardingOption *option = solver.getChosenOption(op)) {
    if (option->kind == ParallelKind::Column ||
        option->kind == ParallelKind::Row ||
        option->kind == ParallelKind::Vocab)
      label += " (" + stringifyParallelKind(option->kind).str() + ")";
    for (ShardingAttr r : option->results)
      label += "\\n-> " + shardingString(r);
  } else if (solver.isUnknown(op)) {
    label += "\\n(no rule: replicated)";
  }
  label += "\\n" + escapeDot(formatLocation(op->getLoc()));
  return label;
}

/// The edges into `op`'s node `id` from the nodes of its tensor operands,
/// coloured by sharding, red with the collective's name where the operand
/// is resharded.
static void writeDotEdges(llvm::raw_ostream &es, Operation *op, StringRef id,
                          const DenseMap<Value, std::string> &nodeOf,
                          const ShardingSolver &solver) {
  for (OpOperand &use : op->getOpOperands()) {
    auto it = nodeOf.find(use.get());
    if (it == nodeOf.end() || !isa<TensorType>(use.get().getType()))
      continue;
    ShardingAttr have = solver.getSharding(use.get());
    ShardingAttr want = solver.getDemand(use);
    es << "  " << it->second << " -> " << id;
    if (have != want)
      es << " [color=red, fontcolor=red, label=\"" << getReshardName(have, want)
         << "\"]";
    else
      es << " [color=" << shardingColor(have) << "]";
    es << ";\n";
  }
}

void PartitionReport::recordDot(func::FuncOp func,
                                const ShardingSolver &solver) {
  llvm::raw_string_ostream os(dot);
  Block &body = func.getBody().front();
  DenseMap<Value, std::string> nodeOf;
  writeDotHeader(os, func, solver, nodeOf);
  // Blocks: each ends at a row-parallel weight op (Megatron's attention and
  // MLP blocks end with one, and its all_reduce); what follows the last one
  // stays outside. Nodes go into their block's cluster, edges after them.
  llvm::SmallVector<Operation *> drawn;
  for (Operation &op : body)
    if (!isFoldedInDot(&op))
      drawn.push_back(&op);
  auto endsBlock = [&](Operation *op) {
    const ShardingOption *option = solver.getChosenOption(op);
    return option && option->kind == ParallelKind::Row;
  };
  size_t lastEnd = 0;
  for (auto [i, op] : llvm::enumerate(drawn))
    if (endsBlock(op))
      lastEnd = i + 1;
  std::string edges;
  llvm::raw_string_ostream es(edges);
  unsigned n = 0, block = 0;
  bool inCluster = false;
  for (auto [index, op] : llvm::enumerate(drawn)) {
    if (!inCluster && index < lastEnd) {
      os << "  subgraph cluster_" << block << " {\n    label=\"block " << block
         << "\";\n    style=dashed;\n";
      inCluster = true;
    }
    std::string id = "op" + std::to_string(n++);
    for (Value r : op->getResults())
      nodeOf[r] = id;
    bool matmul = solver.isWeightOpLike(op);
    os << (inCluster ? "    " : "  ") << id << " [label=\""
       << dotLabel(op, solver) << "\""
       << (matmul ? ", style=filled, fillcolor=lightblue" : "") << "];\n";
    writeDotEdges(es, op, id, nodeOf, solver);
    if (inCluster && endsBlock(op)) {
      os << "  }\n";
      inCluster = false;
      ++block;
    }
  }
  os << edges << "}\n";
}
