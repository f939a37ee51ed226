//===- Epilogue.h - What a tp_rt_gemm epilogue asks for ---------*- C++ -*-===//
//
// tp_rt_gemm's epilogue argument is a tp_gemm_epilogue (tp_runtime.h; the
// numbers are the ABI). Both backends' GEMMs (OpenBLAS, cuBLASLt) ask it
// the same two questions.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_COMMON_EPILOGUE_H
#define TP_RUNTIME_COMMON_EPILOGUE_H

#include "tp/runtime/tp_runtime.h"

#include <cstdint>

namespace tp::rt {

/// Whether the epilogue adds a bias (and so needs a bias pointer).
inline bool epilogueHasBias(int32_t epilogue) {
  return epilogue == TP_EPILOGUE_BIAS || epilogue == TP_EPILOGUE_BIAS_GELU ||
         epilogue == TP_EPILOGUE_BIAS_RELU;
}

/// Whether the epilogue applies an activation (gelu or relu).
inline bool epilogueHasActivation(int32_t epilogue) {
  return epilogue == TP_EPILOGUE_GELU || epilogue == TP_EPILOGUE_BIAS_GELU ||
         epilogue == TP_EPILOGUE_RELU || epilogue == TP_EPILOGUE_BIAS_RELU;
}

} // namespace tp::rt

#endif // TP_RUNTIME_COMMON_EPILOGUE_H
