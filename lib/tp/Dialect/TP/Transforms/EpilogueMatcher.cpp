//===- EpilogueMatcher.cpp - which GEMM epilogue a scalar body is ---------===//
//
// Part of tp-mlir.
//
// Frontends spell GELU in many ways (x * 0.5 * (1 + tanh(...)), with powf or
// repeated products, constants folded or not, bf16 bodies that extend to f32
// and back). Instead of matching one spelling, the body is evaluated as a
// function on sample points and compared with the candidates; a function
// that agrees with tanh-GELU to 1e-5 (relative above 1) at 25 points spread
// over [-8, 8] (times 4 bias values) is tanh-GELU for any purpose of a GEMM
// epilogue; the erf form differs by up to 5e-4 and is rejected.
//
// A bf16 (or f16) body holds its constants in its own type: sqrt(2/pi) is
// 0.796875 in bf16, 0.13% off, and the body then differs from the exact
// tanh-GELU by more than the erf form does, so no tolerance on the value
// tells the two apart. Instead, tanh-GELU is matched as a family: the body's
// values give tanh's argument (atanh(2 f(z) / z - 1)), a least-squares fit
// gives its two coefficients (a z + b z^3), and the body is tanh-GELU when
// both are sqrt(2/pi) and 0.044715 sqrt(2/pi) as the body's element type
// can hold them (within two units in the last place of that type, which
// also covers a frontend that folds the product b itself) and the fitted
// function reproduces every sample to 1e-5. The erf form's best fit is 6%
// off in b and 1e-3 off in value: rejected in every type. cuBLASLt's
// epilogue then uses the exact constants, a difference well below the
// output's rounding in that type.
//
//===----------------------------------------------------------------------===//

#include "EpilogueMatcher.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tp;

namespace {

double geluTanh(double v) {
  const double c = std::sqrt(2.0 / M_PI);
  return 0.5 * v * (1.0 + std::tanh(c * (v + 0.044715 * v * v * v)));
}

double relu(double v) { return v > 0 ? v : 0.0; }

std::optional<bool> compare(arith::CmpFPredicate predicate, double a,
                            double b) {
  using P = arith::CmpFPredicate;
  bool unordered = std::isnan(a) || std::isnan(b);
  switch (predicate) {
  case P::OEQ:
    return !unordered && a == b;
  case P::OGT:
    return !unordered && a > b;
  case P::OGE:
    return !unordered && a >= b;
  case P::OLT:
    return !unordered && a < b;
  case P::OLE:
    return !unordered && a <= b;
  case P::ONE:
    return !unordered && a != b;
  case P::UEQ:
    return unordered || a == b;
  case P::UGT:
    return unordered || a > b;
  case P::UGE:
    return unordered || a >= b;
  case P::ULT:
    return unordered || a < b;
  case P::ULE:
    return unordered || a <= b;
  case P::UNE:
    return unordered || a != b;
  case P::ORD:
    return !unordered;
  case P::UNO:
    return unordered;
  case P::AlwaysFalse:
    return false;
  case P::AlwaysTrue:
    return true;
  }
  return std::nullopt;
}

/// The value of the one-result `op` on operand values `in`; nullopt for an
/// op outside the small set below (a table of each op's arithmetic).
std::optional<double> evaluateOp(Operation &op, ArrayRef<double> in) {
  auto binary = [&](auto fn) -> std::optional<double> {
    if (in.size() != 2)
      return std::nullopt;
    return fn(in[0], in[1]);
  };
  auto unary = [&](auto fn) -> std::optional<double> {
    if (in.size() != 1)
      return std::nullopt;
    return fn(in[0]);
  };
  return llvm::TypeSwitch<Operation *, std::optional<double>>(&op)
      .Case([&](arith::ConstantOp c) -> std::optional<double> {
        if (auto f = dyn_cast<FloatAttr>(c.getValue()))
          return f.getValueAsDouble();
        return std::nullopt;
      })
      .Case([&](arith::AddFOp) {
        return binary([](double a, double b) { return a + b; });
      })
      .Case([&](arith::SubFOp) {
        return binary([](double a, double b) { return a - b; });
      })
      .Case([&](arith::MulFOp) {
        return binary([](double a, double b) { return a * b; });
      })
      .Case([&](arith::DivFOp) {
        return binary([](double a, double b) { return a / b; });
      })
      .Case<arith::MaximumFOp, arith::MaxNumFOp>([&](Operation *) {
        return binary([](double a, double b) { return std::fmax(a, b); });
      })
      .Case<arith::MinimumFOp, arith::MinNumFOp>([&](Operation *) {
        return binary([](double a, double b) { return std::fmin(a, b); });
      })
      .Case([&](arith::NegFOp) { return unary([](double a) { return -a; }); })
      .Case<arith::ExtFOp, arith::TruncFOp>(
          [&](Operation *) { return unary([](double a) { return a; }); })
      .Case([&](arith::CmpFOp cmp) -> std::optional<double> {
        if (in.size() != 2)
          return std::nullopt;
        std::optional<bool> r = compare(cmp.getPredicate(), in[0], in[1]);
        if (!r)
          return std::nullopt;
        return *r ? 1.0 : 0.0;
      })
      .Case([&](arith::SelectOp) -> std::optional<double> {
        if (in.size() != 3)
          return std::nullopt;
        return in[0] != 0.0 ? in[1] : in[2];
      })
      .Case([&](math::TanhOp) { return unary(::tanh); })
      .Case([&](math::ExpOp) { return unary(::exp); })
      .Case([&](math::Exp2Op) { return unary(::exp2); })
      .Case([&](math::ExpM1Op) { return unary(::expm1); })
      .Case([&](math::LogOp) { return unary(::log); })
      .Case([&](math::Log1pOp) { return unary(::log1p); })
      .Case([&](math::ErfOp) { return unary(::erf); })
      .Case([&](math::SqrtOp) { return unary(::sqrt); })
      .Case([&](math::RsqrtOp) {
        return unary([](double a) { return 1.0 / std::sqrt(a); });
      })
      .Case([&](math::AbsFOp) { return unary(::fabs); })
      .Case([&](math::PowFOp) { return binary(::pow); })
      .Case([&](math::FmaOp) -> std::optional<double> {
        if (in.size() != 3)
          return std::nullopt;
        return in[0] * in[1] + in[2];
      })
      .Default([](Operation *) { return std::nullopt; });
}

/// Evaluates `body` with `x` and `bias` bound; nullopt when it uses anything
/// else or an op outside the small set evaluateOp knows.
std::optional<double> evaluate(Block &body, Value x, Value bias, double xv,
                               double bv) {
  llvm::DenseMap<Value, double> env;
  env[x] = xv;
  if (bias)
    env[bias] = bv;
  auto get = [&](Value v) -> std::optional<double> {
    auto it = env.find(v);
    if (it != env.end())
      return it->second;
    // A float constant, possibly defined outside the region.
    if (auto cst = v.getDefiningOp<arith::ConstantOp>())
      if (auto f = dyn_cast<FloatAttr>(cst.getValue()))
        return f.getValueAsDouble();
    return std::nullopt;
  };

  for (Operation &op : body) {
    if (op.hasTrait<OpTrait::IsTerminator>()) {
      if (op.getNumOperands() != 1)
        return std::nullopt;
      return get(op.getOperand(0));
    }
    if (op.getNumResults() != 1)
      return std::nullopt;
    SmallVector<double, 3> in;
    for (Value operand : op.getOperands()) {
      std::optional<double> v = get(operand);
      if (!v)
        return std::nullopt;
      in.push_back(*v);
    }
    std::optional<double> result = evaluateOp(op, in);
    if (!result)
      return std::nullopt;
    env[op.getResult(0)] = *result;
  }
  return std::nullopt;
}

/// The fewest significand bits of the float types `body` computes in (its
/// arguments, results and the constants it reads).
unsigned bodyPrecision(Block &body) {
  unsigned bits = 53;
  auto visit = [&](Type type) {
    if (auto f = dyn_cast<FloatType>(type))
      bits = std::min(bits,
                      llvm::APFloat::semanticsPrecision(f.getFloatSemantics()));
  };
  for (BlockArgument arg : body.getArguments())
    visit(arg.getType());
  for (Operation &op : body) {
    for (Type type : op.getResultTypes())
      visit(type);
    for (Value operand : op.getOperands())
      if (operand.getDefiningOp<arith::ConstantOp>())
        visit(operand.getType());
  }
  return bits;
}

/// Whether `values` (the body at points `zs` = x + bias) are
/// 0.5 z (1 + tanh(a z + b z^3)) with a and b the tanh-GELU constants as a
/// type of `precision` significand bits holds them (see the file comment).
bool isTanhGeluFamily(ArrayRef<double> zs, ArrayRef<double> values,
                      unsigned precision) {
  // Least squares for atanh(2 f(z) / z - 1) = a z + b z^3, on the points
  // where atanh is well conditioned.
  double s11 = 0, s13 = 0, s33 = 0, r1 = 0, r3 = 0;
  unsigned used = 0;
  for (auto [z, f] : llvm::zip_equal(zs, values)) {
    if (!(std::fabs(z) > 0.2 && std::fabs(z) < 3.0))
      continue;
    double t = 2.0 * f / z - 1.0;
    if (!(std::fabs(t) < 1.0))
      return false;
    double y = std::atanh(t), z2 = z * z;
    s11 += z2;
    s13 += z2 * z2;
    s33 += z2 * z2 * z2;
    r1 += z * y;
    r3 += z2 * z * y;
    ++used;
  }
  double det = s11 * s33 - s13 * s13;
  if (used < 4 || !(std::fabs(det) > 0))
    return false;
  double a = (r1 * s33 - r3 * s13) / det;
  double b = (s11 * r3 - s13 * r1) / det;
  const double a0 = std::sqrt(2.0 / M_PI), b0 = 0.044715 * a0;
  // Two units in the last place of the type, relative.
  const double ulps = std::ldexp(2.0, 1 - static_cast<int>(precision));
  if (!(std::fabs(a - a0) <= ulps * a0 && std::fabs(b - b0) <= ulps * b0))
    return false;
  for (auto [z, f] : llvm::zip_equal(zs, values)) {
    double expected = 0.5 * z * (1.0 + std::tanh(a * z + b * z * z * z));
    if (!(std::fabs(f - expected) <= 1e-5 * std::max(1.0, std::fabs(expected))))
      return false;
  }
  return true;
}

} // namespace

std::optional<GemmEpilogue> mlir::tp::matchEpilogueBody(Block &body, Value x,
                                                        Value bias) {
  // Sample points: x over [-8, 8] (both GELU tails, the kink of ReLU), the
  // bias over a few values of both signs.
  SmallVector<double> xs, bs = {0.0};
  for (int i = 0; i < 25; ++i)
    xs.push_back(-8.0 + 16.0 * i / 24.0 + 0.013 * i);
  if (bias)
    bs = {-1.37, -0.2, 0.45, 2.6};

  struct Candidate {
    GemmEpilogue withBias, withoutBias;
    double (*act)(double);
  };
  const Candidate candidates[] = {
      {GemmEpilogue::bias, GemmEpilogue::none, [](double v) { return v; }},
      {GemmEpilogue::bias_gelu, GemmEpilogue::gelu, geluTanh},
      {GemmEpilogue::bias_relu, GemmEpilogue::relu, relu},
  };
  SmallVector<double> values, zs;
  for (double b : bs)
    for (double xv : xs) {
      std::optional<double> v = evaluate(body, x, bias, xv, b);
      if (!v)
        return std::nullopt;
      values.push_back(*v);
      zs.push_back(xv + b);
    }
  for (const Candidate &c : candidates) {
    bool all = true;
    unsigned i = 0;
    for (double b : bs)
      for (double xv : xs) {
        double expected = c.act(xv + b);
        double got = values[i++];
        if (!(std::fabs(got - expected) <=
              1e-5 * std::max(1.0, std::fabs(expected))))
          all = false;
      }
    if (all)
      return bias ? c.withBias : c.withoutBias;
  }
  if (isTanhGeluFamily(zs, values, bodyPrecision(body)))
    return bias ? GemmEpilogue::bias_gelu : GemmEpilogue::gelu;
  return std::nullopt;
}
