//===- Report.cpp - what tp-partition chose and what it costs -------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/Report.h"
#include "tp/Dialect/TP/IR/TPOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tp;

static std::string locationString(Location loc) {
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return llvm::formatv("{0}:{1}:{2}", file.getFilename().getValue(),
                         file.getLine(), file.getColumn())
        .str();
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (isa<FileLineColLoc, NameLoc>(inner))
        return locationString(inner);
  return "?";
}

static std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

/// True for ops whose options name a column or a row form.
static bool isMatmulLike(Operation *op, int64_t tpSize) {
  auto iface = dyn_cast<ShardingOpInterface>(op);
  if (!iface)
    return false;
  SmallVector<ShardingOption> options;
  iface.getShardingOptions(tpSize, options);
  return llvm::any_of(options, [](const ShardingOption &o) {
    return o.kind == ParallelKind::Column || o.kind == ParallelKind::Row;
  });
}

void PartitionReport::recordPlan(func::FuncOp func,
                                 const ShardingSolver &solver) {
  Function &f = functions.emplace_back();
  f.name = func.getName().str();
  f.tpSize = solver.getTPSize();
  for (Operation &op : func.getBody().front()) {
    if (!isMatmulLike(&op, f.tpSize))
      continue;
    Matmul m;
    m.op = op.getName().getStringRef().str();
    m.location = locationString(op.getLoc());
    const ShardingOption *option = solver.getChosenOption(&op);
    if (!option || option->isReplicated())
      m.form = "replicated";
    else if (option->kind == ParallelKind::Other)
      m.form = llvm::formatv("split loop {0}", option->loopDim).str();
    else
      m.form = stringifyParallelKind(option->kind).str();
    if (solver.isAnnotated(&op))
      m.reason = "annotated (tp.parallel)";
    else if (f.tpSize == 1)
      m.reason = "tp-size 1";
    else
      m.reason = "propagated: cheapest given its neighbours";
    f.matmuls.push_back(std::move(m));
  }
}

void PartitionReport::recordPartitioned(func::FuncOp func) {
  if (functions.empty() || functions.back().name != func.getName())
    functions.emplace_back().name = func.getName().str();
  Function &f = functions.back();
  int64_t p = f.tpSize;
  auto bytesOf = [](Type type) {
    return static_cast<int64_t>(CostModel::getBytes(type));
  };
  func.walk([&](Operation *op) {
    Collective c;
    c.location = locationString(op->getLoc());
    c.op = op->getName().getStringRef().str();
    double ring = double(p - 1) / double(p);
    if (auto ar = dyn_cast<AllReduceOp>(op)) {
      c.detail = stringifyReductionKind(ar.getKind()).str();
      c.type = typeString(ar.getType());
      c.tensorBytes = bytesOf(ar.getType());
      c.trafficBytes = static_cast<int64_t>(2 * ring * c.tensorBytes);
    } else if (auto ag = dyn_cast<AllGatherOp>(op)) {
      c.detail = llvm::formatv("dim {0}", ag.getDim()).str();
      c.type = typeString(ag.getInput().getType());
      c.tensorBytes = bytesOf(ag.getType());
      c.trafficBytes = static_cast<int64_t>(ring * c.tensorBytes);
    } else if (auto rs = dyn_cast<ReduceScatterOp>(op)) {
      c.detail = llvm::formatv("{0} dim {1}",
                               stringifyReductionKind(rs.getKind()),
                               rs.getDim())
                     .str();
      c.type = typeString(rs.getInput().getType());
      c.tensorBytes = bytesOf(rs.getInput().getType());
      c.trafficBytes = static_cast<int64_t>(ring * c.tensorBytes);
    } else {
      return;
    }
    f.collectives.push_back(std::move(c));
  });
  f.argumentBytes = 0;
  f.argumentBytesPerRank = 0;
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    f.argumentBytesPerRank += bytesOf(type);
    auto global =
        func.getArgAttrOfType<TypeAttr>(i, TPDialect::getGlobalTypeAttrName());
    f.argumentBytes += bytesOf(global ? global.getValue() : type);
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
    os << "  matmul-like ops:\n";
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
      total += c.trafficBytes;
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
    int64_t total = 0;
    for (const Collective &c : f.collectives) {
      cs.push_back(llvm::json::Object{{"op", c.op},
                                      {"detail", c.detail},
                                      {"type", c.type},
                                      {"location", c.location},
                                      {"tensor_bytes", c.tensorBytes},
                                      {"traffic_bytes", c.trafficBytes}});
      total += c.trafficBytes;
    }
    fs.push_back(llvm::json::Object{
        {"function", f.name},
        {"tp_size", f.tpSize},
        {"matmuls", std::move(ms)},
        {"collectives", std::move(cs)},
        {"traffic_bytes_per_step", total},
        {"argument_bytes", f.argumentBytes},
        {"argument_bytes_per_rank", f.argumentBytesPerRank}});
  }
  return llvm::json::Object{{"format", "tp-plan-report"},
                            {"version", 1},
                            {"functions", std::move(fs)}};
}
