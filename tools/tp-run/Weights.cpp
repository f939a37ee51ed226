//===- Weights.cpp - tp-run: arguments read from .safetensors files -------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "Weights.h"

#include "Launch/Safetensors.h"
#include "tp/Dialect/TP/IR/TPDialect.h"
#include "tp/runtime/files.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

using namespace mlir;
namespace st = ::tp::launch::safetensors;

namespace tp_run {

std::string WeightPlan::launchMap() const {
  llvm::json::Object map;
  for (const auto &[index, name] : tensorFor)
    map[std::to_string(index)] = name;
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(map));
  return text;
}

std::vector<std::string> argumentNames(func::FuncOp func,
                                       const llvm::SourceMgr &sourceMgr) {
  std::vector<std::string> names(func.getNumArguments());
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto loc = dyn_cast<FileLineColLoc>(func.getArgument(i).getLoc());
    if (!loc || sourceMgr.getNumBuffers() == 0)
      continue;
    const llvm::MemoryBuffer *buffer =
        sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
    if (loc.getFilename() != buffer->getBufferIdentifier())
      continue;
    // Line and column are 1-based; the location points at "%name".
    llvm::StringRef text = buffer->getBuffer();
    size_t at = 0;
    for (unsigned line = 1; line < loc.getLine() && at != llvm::StringRef::npos;
         ++line) {
      at = text.find('\n', at);
      if (at != llvm::StringRef::npos)
        ++at;
    }
    if (at == llvm::StringRef::npos)
      continue;
    at += loc.getColumn() - 1;
    if (at >= text.size() || text[at] != '%')
      continue;
    size_t end = at + 1;
    while (end < text.size() &&
           (std::isalnum((unsigned char)text[end]) || text[end] == '_' ||
            text[end] == '$' || text[end] == '.' || text[end] == '-'))
      ++end;
    names[i] = text.substr(at + 1, end - at - 1).str();
  }
  return names;
}

namespace {

bool fail(std::string &error, const std::string &message) {
  error = message;
  return false;
}

/// Reads and validates the header of a .safetensors file (not its data).
bool readHeader(const std::string &path, st::Header &header,
                std::string &error) {
  FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return fail(error, "cannot open file: " + std::string(strerror(errno)));
  struct stat info;
  if (fstat(fileno(file), &info) != 0 || !S_ISREG(info.st_mode)) {
    std::fclose(file);
    return fail(error, "not a regular file");
  }
  std::vector<unsigned char> bytes(8);
  size_t got = std::fread(bytes.data(), 1, 8, file);
  if (got == 8) {
    uint64_t size = 0;
    for (int i = 7; i >= 0; --i)
      size = (size << 8) | bytes[size_t(i)];
    if (size <= st::maxHeaderBytes && size <= uint64_t(info.st_size) - 8) {
      bytes.resize(8 + size);
      got += std::fread(bytes.data() + 8, 1, size, file);
    }
  }
  std::fclose(file);
  return st::parseHeader(bytes.data(), got, uint64_t(info.st_size), header,
                         error);
}

/// The map's text: inline JSON, or the file it names.
bool mapText(const std::string &weightMap, std::string &text,
             std::string &error) {
  size_t first = weightMap.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && weightMap[first] == '{') {
    text = weightMap;
    return true;
  }
  auto buffer = llvm::MemoryBuffer::getFile(weightMap);
  if (!buffer)
    return fail(error, "--weight-map " + weightMap + ": cannot open file: " +
                           buffer.getError().message());
  text = (*buffer)->getBuffer().str();
  return true;
}

} // namespace

bool dtypeOf(Type elem, tp_dtype &dtype) {
  if (elem.isF32())
    dtype = TP_F32;
  else if (elem.isF64())
    dtype = TP_F64;
  else if (elem.isF16())
    dtype = TP_F16;
  else if (elem.isBF16())
    dtype = TP_BF16;
  else if (elem.isSignlessInteger(32))
    dtype = TP_I32;
  else if (elem.isSignlessInteger(64))
    dtype = TP_I64;
  else
    return false;
  return true;
}

namespace {

/// The argument `key` names (an index or an argument's name).
bool argumentIndex(func::FuncOp func, const std::vector<std::string> &names,
                   const std::string &key, unsigned &index) {
  const unsigned numArgs = func.getNumArguments();
  char *end = nullptr;
  long n = std::strtol(key.c_str(), &end, 10);
  if (!key.empty() && *end == '\0' && n >= 0 && n < long(numArgs)) {
    index = unsigned(n);
    return true;
  }
  for (unsigned i = 0; i < numArgs; ++i)
    if (!names[i].empty() && names[i] == key) {
      index = i;
      return true;
    }
  return false;
}

/// Argument -> tensor name from --weight-map.
bool mappedTensors(func::FuncOp func, const std::vector<std::string> &names,
                   const std::string &weightMap,
                   std::map<unsigned, std::string> &wanted,
                   std::string &error) {
  const unsigned numArgs = func.getNumArguments();
  std::string text;
  if (!mapText(weightMap, text, error))
    return false;
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed)
    return fail(error, "--weight-map: malformed JSON: " +
                           llvm::toString(parsed.takeError()));
  const llvm::json::Object *object = parsed->getAsObject();
  if (!object)
    return fail(error, "--weight-map: expected a JSON object {\"ARGUMENT "
                       "INDEX OR NAME\": \"TENSOR NAME\", ...}");
  for (const auto &[key, value] : *object) {
    unsigned index = 0;
    if (!argumentIndex(func, names, key.str(), index)) {
      std::string known;
      for (unsigned i = 0; i < numArgs; ++i)
        if (!names[i].empty())
          known += (known.empty() ? "" : ", ") + names[i];
      return fail(error, "--weight-map: '" + key.str() +
                             "' is neither an argument index of @" +
                             func.getName().str() + " (0 to " +
                             std::to_string(numArgs - 1) +
                             ") nor an argument name" +
                             (known.empty() ? "" : " (" + known + ")"));
    }
    std::optional<llvm::StringRef> tensor = value.getAsString();
    if (!tensor)
      return fail(error, "--weight-map: the value of '" + key.str() +
                             "' must be a tensor name (a string)");
    if (wanted.count(index))
      return fail(error, "--weight-map: argument " + std::to_string(index) +
                             " is mapped twice");
    wanted[index] = tensor->str();
  }
  return true;
}

/// Argument -> tensor name, for the arguments named like a tensor.
bool namedTensors(func::FuncOp func, const std::vector<std::string> &names,
                  const std::vector<st::Header> &headers,
                  std::map<unsigned, std::string> &wanted, std::string &error) {
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    for (const st::Header &header : headers)
      if (!names[i].empty() && header.find(names[i]))
        wanted[i] = names[i];
  if (wanted.empty())
    return fail(error, "no argument of @" + func.getName().str() +
                           " is named like a tensor of --weights; say "
                           "which argument reads which tensor with "
                           "--weight-map '{\"0\": \"TENSOR NAME\", ...}'");
  return true;
}

/// Tensor `name` for argument `index`: in exactly one file, with the
/// argument's dtype and shape.
bool checkWeightTensor(func::FuncOp func, const std::vector<std::string> &names,
                       const std::vector<st::Header> &headers,
                       const WeightPlan &plan, const std::string &weights,
                       unsigned index, const std::string &name,
                       std::string &error) {
  const std::string what =
      "argument " + std::to_string(index) +
      (names[index].empty() ? "" : " (%" + names[index] + ")");
  const st::TensorInfo *tensor = nullptr;
  std::string file;
  for (size_t f = 0; f < headers.size(); ++f)
    if (const st::TensorInfo *t = headers[f].find(name)) {
      if (tensor)
        return fail(error, what + ": tensor '" + name + "' is in both " + file +
                               " and " + plan.files[f]);
      tensor = t;
      file = plan.files[f];
    }
  if (!tensor)
    return fail(error, what + ": no tensor '" + name + "' in " + weights);
  auto type = dyn_cast<RankedTensorType>(func.getArgumentTypes()[index]);
  if (auto global = func.getArgAttrOfType<TypeAttr>(
          index, mlir::tp::TPDialect::getGlobalTypeAttrName()))
    type = dyn_cast<RankedTensorType>(global.getValue());
  ::tp::launch::TensorSpec spec;
  if (!type || !type.hasStaticShape() ||
      !dtypeOf(type.getElementType(), spec.dtype))
    return fail(error, what + " cannot be read from --weights: it is not a "
                              "statically shaped tensor of f32, f64, f16, "
                              "bf16, i32 or i64");
  spec.globalShape.assign(type.getShape().begin(), type.getShape().end());
  spec.localShape = spec.globalShape;
  return st::checkTensor(*tensor, spec, what + " (" + file + ")", error);
}

} // namespace

bool resolveWeights(func::FuncOp func, const std::vector<std::string> &names,
                    const std::string &weights, const std::string &weightMap,
                    WeightPlan &plan, std::string &error) {
  if (!::tp::files::splitList(weights, plan.files))
    return fail(error, "empty file name in --weights '" + weights + "'");
  std::vector<st::Header> headers(plan.files.size());
  for (size_t f = 0; f < plan.files.size(); ++f)
    if (!readHeader(plan.files[f], headers[f], error))
      return fail(error, "weights " + plan.files[f] + ": " + error);
  // Argument -> tensor name, from the map or from the argument names.
  std::map<unsigned, std::string> wanted;
  if (!(weightMap.empty()
            ? namedTensors(func, names, headers, wanted, error)
            : mappedTensors(func, names, weightMap, wanted, error)))
    return false;
  for (const auto &[index, name] : wanted) {
    if (!checkWeightTensor(func, names, headers, plan, weights, index, name,
                           error))
      return false;
    plan.tensorFor[index] = name;
  }
  return true;
}

} // namespace tp_run
