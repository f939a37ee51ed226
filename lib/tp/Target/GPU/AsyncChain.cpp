//===- AsyncChain.cpp - the tp-gpu-async-chain pass -----------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Target/GPU/Passes.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUASYNCCHAIN
#include "tp/Target/GPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

bool isChained(Operation *op) {
  return isa<gpu::LaunchFuncOp, gpu::AllocOp, gpu::DeallocOp, gpu::MemcpyOp,
             gpu::MemsetOp>(op);
}

/// Makes `op` async on `token`; returns its token.
Value makeAsync(Operation *op, Value token) {
  auto asyncOp = cast<gpu::AsyncOpInterface>(op);
  if (!asyncOp.getAsyncToken()) {
    // The same op with a token result appended (every chained op has its
    // token as the last result).
    OpBuilder builder(op);
    OperationState state(op->getLoc(), op->getName());
    state.addOperands(op->getOperands());
    state.addAttributes(op->getDiscardableAttrDictionary().getValue());
    state.propertiesAttr = op->getPropertiesAsAttribute();
    state.addTypes(op->getResultTypes());
    state.addTypes(gpu::AsyncTokenType::get(op->getContext()));
    Operation *replacement = builder.create(state);
    op->replaceAllUsesWith(
        replacement->getResults().take_front(op->getNumResults()));
    op->erase();
    asyncOp = cast<gpu::AsyncOpInterface>(replacement);
  }
  if (asyncOp.getAsyncDependencies().empty())
    asyncOp.addAsyncDependency(token);
  return asyncOp.getAsyncToken();
}

struct TPGPUAsyncChainPass
    : public tp::impl::TPGPUAsyncChainBase<TPGPUAsyncChainPass> {
  using Base::Base;

  void runOnOperation() override {
    bool failed = false;
    getOperation().walk([&](FunctionOpInterface func) {
      if (isa<gpu::GPUFuncOp>(func) || func.isExternal())
        return WalkResult::skip();
      bool hasGPUOps = false;
      func->walk([&](Operation *op) { hasGPUOps |= isChained(op); });
      if (!hasGPUOps)
        return WalkResult::skip();
      Region &body = func.getFunctionBody();
      if (!body.hasOneBlock()) {
        func.emitOpError("has several blocks; tp-gpu-async-chain needs "
                         "structured control flow");
        failed = true;
        return WalkResult::skip();
      }
      Block &entry = body.front();
      OpBuilder builder(&entry, entry.begin());
      Type tokenType = gpu::AsyncTokenType::get(&getContext());
      Value token = gpu::WaitOp::create(builder, func.getLoc(), tokenType,
                                        ValueRange())
                        .getAsyncToken();
      for (Operation &op : llvm::make_early_inc_range(entry)) {
        if (isChained(&op)) {
          token = makeAsync(&op, token);
          continue;
        }
        if (op.hasTrait<OpTrait::IsTerminator>()) {
          builder.setInsertionPoint(&op);
          gpu::WaitOp::create(builder, op.getLoc(), Type(), ValueRange{token});
          continue;
        }
        // Nested in host control flow: ordered after the chain so far (one
        // stream), nothing waits for them but the final wait.
        SmallVector<Operation *> nested;
        op.walk([&](Operation *inner) {
          if (isChained(inner))
            nested.push_back(inner);
        });
        for (Operation *inner : nested)
          makeAsync(inner, token);
      }
      return WalkResult::skip();
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
