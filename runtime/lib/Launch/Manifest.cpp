//===- Manifest.cpp - The tp_manifest of a compiled model -----------------===//

#include "Launch/Manifest.h"
#include "Common/DType.h"
#include "Launch/Json.h"
#include "tp/runtime/npy.h"
#include "tp/runtime/sharding.h"

namespace tp::launch {

namespace {

using Kind = JsonValue::Kind;

class ManifestReader {
public:
  std::string error;

  bool fail(const std::string &where, const std::string &message) {
    error = where.empty() ? message : where + ": " + message;
    return false;
  }

  const JsonValue *field(const JsonValue &object, const std::string &where,
                         const char *key, Kind kind) {
    const JsonValue *value = object.find(key);
    std::string at = where.empty() ? std::string(key) : where + "." + key;
    if (!value) {
      fail(where, std::string("missing field \"") + key + "\"");
      return nullptr;
    }
    if (value->kind != kind) {
      JsonValue expected;
      expected.kind = kind;
      fail(at, std::string("expected ") + expected.kindName() + ", got " +
                   value->kindName());
      return nullptr;
    }
    return value;
  }

  bool integerField(const JsonValue &object, const std::string &where,
                    const char *key, int64_t &out) {
    const JsonValue *value = field(object, where, key, Kind::Number);
    if (!value)
      return false;
    if (!value->isInteger)
      return fail(where.empty() ? key : where + "." + key,
                  "expected an integer");
    out = value->integer;
    return true;
  }

  bool stringField(const JsonValue &object, const std::string &where,
                   const char *key, std::string &out) {
    const JsonValue *value = field(object, where, key, Kind::String);
    if (!value)
      return false;
    out = value->string;
    return true;
  }

  bool shapeField(const JsonValue &object, const std::string &where,
                  const char *key, std::vector<int64_t> &shape) {
    const JsonValue *value = field(object, where, key, Kind::Array);
    if (!value)
      return false;
    std::string at = where + "." + key;
    shape.clear();
    for (const JsonValue &d : value->array) {
      if (d.kind != Kind::Number || !d.isInteger || d.integer < 0)
        return fail(at, "dimensions must be non-negative integers");
      shape.push_back(d.integer);
    }
    if (npy::numElements(shape) < 0)
      return fail(at, "shape is too large");
    return true;
  }

  /// Fails unless `factor` copies of `shape` in `dtype` have a byte count
  /// that fits int64 (so that no size computed from them wraps around).
  bool checkBytes(const std::string &at, const std::vector<int64_t> &shape,
                  tp_dtype dtype, int64_t factor, const char *what) {
    int64_t elements = npy::numElements(shape), bytes;
    if (elements < 0 ||
        __builtin_mul_overflow(elements, int64_t(rt::dtypeSize(dtype)),
                               &bytes) ||
        __builtin_mul_overflow(bytes, factor, &bytes))
      return fail(at, npy::formatShape(shape) + " of " + rt::dtypeName(dtype) +
                          " is too large: " + what +
                          " does not fit in 64 bits (check the shapes the "
                          "model was compiled with)");
    return true;
  }

  /// dtype, global_shape and local_shape of a TENSOR object.
  bool tensorShapes(const JsonValue &value, const std::string &where,
                    int64_t tpSize, TensorSpec &spec) {
    std::string dtype;
    if (!stringField(value, where, "dtype", dtype))
      return false;
    if (!rt::parseDTypeName(dtype, spec.dtype))
      return fail(where + ".dtype", "unknown dtype \"" + dtype +
                                        "\" (expected f32, f64, f16, bf16, "
                                        "i32 or i64)");
    if (!shapeField(value, where, "global_shape", spec.globalShape) ||
        !shapeField(value, where, "local_shape", spec.localShape))
      return false;
    const std::vector<int64_t> &g = spec.globalShape, &l = spec.localShape;
    if (g.size() != l.size())
      return fail(where, "local_shape " + npy::formatShape(l) +
                             " and global_shape " + npy::formatShape(g) +
                             " have different ranks");
    return checkBytes(where + ".global_shape", g, spec.dtype, 1,
                      "its size in bytes") &&
           checkBytes(where + ".local_shape", l, spec.dtype, 1,
                      "its size in bytes") &&
           checkBytes(where + ".local_shape", l, spec.dtype, tpSize,
                      "the size in bytes of all ranks' shards together");
  }

  /// A replicated or partial sharding: the local shape is the global one.
  bool wholeSharding(const JsonValue &sharding, const std::string &where,
                     const std::string &kind, TensorSpec &spec) {
    Sharding &s = spec.sharding;
    s.kind = kind == "replicated" ? ShardKind::Replicated : ShardKind::Partial;
    if (s.kind == ShardKind::Partial) {
      std::string reduction, at = where + ".sharding";
      if (!stringField(sharding, at, "reduction", reduction))
        return false;
      if (!rt::parseReduceOpName(reduction, s.reduction))
        return fail(at + ".reduction", "unknown reduction \"" + reduction +
                                           "\" (expected sum, max or min)");
    }
    if (spec.localShape != spec.globalShape)
      return fail(where, "a " + kind +
                             " tensor must have local_shape == "
                             "global_shape, got " +
                             npy::formatShape(spec.localShape) + " and " +
                             npy::formatShape(spec.globalShape));
    return true;
  }

  /// "segments" and "replicated_segments" of a split: sizes that divide
  /// by the tp size, sum to the dimension and hold the local size.
  bool segmentedSplit(const JsonValue &segments, const JsonValue &sharding,
                      const std::string &at, int64_t tpSize, TensorSpec &spec) {
    Sharding &s = spec.sharding;
    const int64_t global = spec.globalShape[s.dim];
    const int64_t localSize = spec.localShape[s.dim];
    std::string sat = at + ".segments";
    if (segments.kind != Kind::Array || segments.array.size() < 2)
      return fail(sat, "expected an array of at least two segment sizes");
    for (const JsonValue &v : segments.array) {
      if (v.kind != Kind::Number || !v.isInteger || v.integer <= 0 ||
          v.integer > global)
        return fail(sat, "segment sizes must be positive integers no "
                         "larger than the dimension");
      s.segments.push_back(v.integer);
    }
    if (const JsonValue *whole = sharding.find("replicated_segments")) {
      std::string rat = at + ".replicated_segments";
      if (whole->kind != Kind::Array)
        return fail(rat, "expected an array of segment indices");
      for (const JsonValue &v : whole->array) {
        if (v.kind != Kind::Number || !v.isInteger || v.integer < 0 ||
            v.integer >= int64_t(s.segments.size()) ||
            (!s.replicatedSegments.empty() &&
             v.integer <= s.replicatedSegments.back()))
          return fail(rat, "expected increasing indices of segments");
        s.replicatedSegments.push_back(v.integer);
      }
      if (s.replicatedSegments.size() == s.segments.size())
        return fail(rat, "every segment is replicated: the tensor is "
                         "replicated");
    }
    int64_t total = 0, local = 0;
    for (size_t i = 0; i < s.segments.size(); ++i) {
      if (!s.isSegmentReplicated(i) && s.segments[i] % tpSize != 0)
        return fail(sat, "segment size " + std::to_string(s.segments[i]) +
                             " is not divisible by tp_size " +
                             std::to_string(tpSize));
      if (__builtin_add_overflow(total, s.segments[i], &total) ||
          __builtin_add_overflow(local, s.localSegmentSize(i, tpSize), &local))
        return fail(sat, "segment sizes overflow 64 bits");
    }
    if (total != global || local != localSize)
      return fail(sat, "segments sum to " + std::to_string(total) +
                           " and hold " + std::to_string(local) +
                           " per rank; expected the global size " +
                           std::to_string(global) + " and the local size " +
                           std::to_string(localSize) + " of dim " +
                           std::to_string(s.dim));
    return true;
  }

  /// A split sharding: its dimension, then segments or a local size that
  /// covers the global one on tpSize ranks (the rest is padding).
  bool splitSharding(const JsonValue &sharding, const std::string &where,
                     int64_t tpSize, TensorSpec &spec) {
    const std::vector<int64_t> &g = spec.globalShape, &l = spec.localShape;
    std::string at = where + ".sharding";
    Sharding &s = spec.sharding;
    s.kind = ShardKind::Split;
    if (!integerField(sharding, at, "dim", s.dim))
      return false;
    if (s.dim < 0 || s.dim >= int64_t(g.size()))
      return fail(at + ".dim", "dim " + std::to_string(s.dim) +
                                   " is out of range for a tensor of rank " +
                                   std::to_string(g.size()));
    for (size_t d = 0; d < g.size(); ++d)
      if (int64_t(d) != s.dim && l[d] != g[d])
        return fail(where, "local_shape " + npy::formatShape(l) +
                               " differs from global_shape " +
                               npy::formatShape(g) + " outside the split dim " +
                               std::to_string(s.dim));
    if (const JsonValue *segments = sharding.find("segments"))
      return segmentedSplit(*segments, sharding, at, tpSize, spec);
    if (sharding.find("replicated_segments"))
      return fail(at + ".replicated_segments", "needs \"segments\"");
    int64_t covered;
    if (__builtin_mul_overflow(l[s.dim], tpSize, &covered) ||
        covered < g[s.dim])
      return fail(where, "split dim " + std::to_string(s.dim) +
                             ": local size " + std::to_string(l[s.dim]) +
                             " on " + std::to_string(tpSize) +
                             " ranks does not cover the global size " +
                             std::to_string(g[s.dim]));
    return true;
  }

  bool tensor(const JsonValue &value, const std::string &where, int64_t tpSize,
              TensorSpec &spec) {
    if (value.kind != Kind::Object)
      return fail(where,
                  std::string("expected an object, got ") + value.kindName());
    if (!tensorShapes(value, where, tpSize, spec))
      return false;
    std::string at = where + ".sharding";
    const JsonValue *sharding = field(value, where, "sharding", Kind::Object);
    if (!sharding)
      return false;
    std::string kind;
    if (!stringField(*sharding, at, "kind", kind))
      return false;
    if (kind == "replicated" || kind == "partial")
      return wholeSharding(*sharding, where, kind, spec);
    if (kind != "split")
      return fail(at + ".kind", "unknown sharding kind \"" + kind +
                                    "\" (expected replicated, split or "
                                    "partial)");
    return splitSharding(*sharding, where, tpSize, spec);
  }

  bool tensors(const JsonValue &root, const char *key, int64_t tpSize,
               std::vector<TensorSpec> &out) {
    const JsonValue *list = field(root, "", key, Kind::Array);
    if (!list)
      return false;
    out.clear();
    for (size_t i = 0; i < list->array.size(); ++i) {
      TensorSpec spec;
      if (!tensor(list->array[i],
                  std::string(key) + "[" + std::to_string(i) + "]", tpSize,
                  spec))
        return false;
      out.push_back(std::move(spec));
    }
    return true;
  }

  /// Which arguments an input has fed so far (each exactly once).
  struct Feeding {
    const Manifest &m;
    std::vector<int> fed;
    explicit Feeding(const Manifest &m) : m(m), fed(m.args.size(), 0) {}
  };

  /// The "arg" of an input or piece: an argument index fed only once.
  bool argIndex(Feeding &feeding, const JsonValue &object,
                const std::string &where, size_t &arg) {
    int64_t index;
    if (!integerField(object, where, "arg", index))
      return false;
    const size_t count = feeding.m.args.size();
    if (index < 0 || index >= int64_t(count))
      return fail(where + ".arg", "argument index " + std::to_string(index) +
                                      " is out of range (" +
                                      std::to_string(count) + " arguments)");
    if (feeding.fed[size_t(index)]++)
      return fail(where + ".arg",
                  "argument " + std::to_string(index) + " is fed twice");
    arg = size_t(index);
    return true;
  }

  /// One piece of a packed input: the strided view of the input that is
  /// argument `piece.arg` stays inside the input.
  bool inputPiece(Feeding &feeding, const JsonValue &p, const std::string &at,
                  const InputSpec &input, InputPiece &piece) {
    if (p.kind != Kind::Object)
      return fail(at, "expected an object");
    if (!argIndex(feeding, p, at, piece.arg) ||
        !integerField(p, at, "offset", piece.offset) ||
        !shapeField(p, at, "strides", piece.strides))
      return false;
    const TensorSpec &arg = feeding.m.args[piece.arg];
    if (arg.dtype != input.dtype)
      return fail(at, "argument " + std::to_string(piece.arg) + " has dtype " +
                          rt::dtypeName(arg.dtype) + ", the input " +
                          rt::dtypeName(input.dtype));
    if (piece.strides.size() != arg.globalShape.size())
      return fail(at + ".strides",
                  "expected one stride per dimension of argument " +
                      std::to_string(piece.arg) + "'s global_shape " +
                      npy::formatShape(arg.globalShape));
    int64_t elements = npy::numElements(input.shape);
    int64_t last = piece.offset, reach;
    bool empty = false, wraps = false;
    for (size_t d = 0; d < piece.strides.size(); ++d) {
      int64_t size = arg.globalShape[d];
      empty |= size == 0;
      if (size > 0)
        wraps |= __builtin_mul_overflow(size - 1, piece.strides[d], &reach) ||
                 __builtin_add_overflow(last, reach, &last);
    }
    if (!empty && (wraps || piece.offset < 0 || last >= elements))
      return fail(at, "the view of argument " + std::to_string(piece.arg) +
                          " reaches outside the input's " +
                          std::to_string(elements) + " elements");
    return true;
  }

  /// One INPUT: an argument whole (same dtype and shape), or pieces.
  bool input(Feeding &feeding, const JsonValue &value, const std::string &where,
             InputSpec &input) {
    if (value.kind != Kind::Object)
      return fail(where,
                  std::string("expected an object, got ") + value.kindName());
    std::string dtype;
    if (!stringField(value, where, "dtype", dtype))
      return false;
    if (!rt::parseDTypeName(dtype, input.dtype))
      return fail(where + ".dtype", "unknown dtype \"" + dtype + "\"");
    if (!shapeField(value, where, "shape", input.shape) ||
        !checkBytes(where + ".shape", input.shape, input.dtype, 1,
                    "its size in bytes"))
      return false;
    const JsonValue *pieces = value.find("pieces");
    if (!pieces) {
      if (!argIndex(feeding, value, where, input.arg))
        return false;
      const TensorSpec &arg = feeding.m.args[input.arg];
      if (arg.dtype != input.dtype || arg.globalShape != input.shape)
        return fail(where, "differs from argument " +
                               std::to_string(input.arg) +
                               "'s dtype and global_shape");
      return true;
    }
    if (pieces->kind != Kind::Array || pieces->array.empty())
      return fail(where + ".pieces", "expected a non-empty array");
    for (size_t k = 0; k < pieces->array.size(); ++k) {
      InputPiece piece;
      if (!inputPiece(feeding, pieces->array[k],
                      where + ".pieces[" + std::to_string(k) + "]", input,
                      piece))
        return false;
      input.pieces.push_back(std::move(piece));
    }
    return true;
  }

  /// "inputs" (version 2), or every argument whole.
  bool inputs(const JsonValue &root, Manifest &m) {
    const JsonValue *list = root.find("inputs");
    m.inputs.clear();
    if (!list) {
      for (size_t i = 0; i < m.args.size(); ++i) {
        InputSpec input;
        input.dtype = m.args[i].dtype;
        input.shape = m.args[i].globalShape;
        input.arg = i;
        m.inputs.push_back(std::move(input));
      }
      return true;
    }
    if (m.version < 2)
      return fail("inputs", "needs manifest version 2");
    if (list->kind != Kind::Array)
      return fail("inputs", "expected an array");
    Feeding feeding(m);
    for (size_t i = 0; i < list->array.size(); ++i) {
      InputSpec spec;
      if (!input(feeding, list->array[i], "inputs[" + std::to_string(i) + "]",
                 spec))
        return false;
      m.inputs.push_back(std::move(spec));
    }
    for (size_t a = 0; a < feeding.fed.size(); ++a)
      if (!feeding.fed[a])
        return fail("inputs",
                    "argument " + std::to_string(a) + " is fed by no input");
    return true;
  }

  bool read(const JsonValue &root, Manifest &m) {
    if (root.kind != Kind::Object)
      return fail("", std::string("expected a JSON object, got ") +
                          root.kindName());
    std::string format;
    if (!stringField(root, "", "format", format))
      return false;
    if (format != "tp-manifest")
      return fail("format", "expected \"tp-manifest\", got \"" + format + "\"");
    if (!integerField(root, "", "version", m.version))
      return false;
    if (m.version != 1 && m.version != 2)
      return fail("version", "unsupported manifest version " +
                                 std::to_string(m.version) +
                                 " (this runtime reads versions 1 and 2)");
    if (!stringField(root, "", "entry", m.entry) ||
        !integerField(root, "", "tp_size", m.tpSize) ||
        !stringField(root, "", "target", m.target))
      return false;
    if (m.entry.empty())
      return fail("entry", "empty entry name");
    if (m.tpSize < 1)
      return fail("tp_size",
                  "must be at least 1, got " + std::to_string(m.tpSize));
    return tensors(root, "args", m.tpSize, m.args) &&
           tensors(root, "results", m.tpSize, m.results) && inputs(root, m);
  }
};

} // namespace

TensorSpec InputSpec::asTensor() const {
  TensorSpec spec;
  spec.dtype = dtype;
  spec.globalShape = spec.localShape = shape;
  return spec;
}

std::pair<size_t, int> Manifest::sourceOf(size_t arg) const {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].isPacked() && inputs[i].arg == arg)
      return {i, -1};
    for (size_t k = 0; k < inputs[i].pieces.size(); ++k)
      if (inputs[i].pieces[k].arg == arg)
        return {i, int(k)};
  }
  return {0, -1}; // unreachable for a parsed manifest
}

bool Manifest::hasPackedInputs() const {
  for (const InputSpec &input : inputs)
    if (input.isPacked())
      return true;
  return false;
}

int64_t TensorSpec::localElements() const {
  return npy::numElements(localShape);
}

int64_t TensorSpec::globalElements() const {
  return npy::numElements(globalShape);
}

bool parseTensorSpec(const JsonValue &value, const std::string &where,
                     int64_t tpSize, TensorSpec &spec, std::string &error) {
  ManifestReader reader;
  TensorSpec parsed;
  if (!reader.tensor(value, where, tpSize, parsed)) {
    error = reader.error;
    return false;
  }
  spec = std::move(parsed);
  return true;
}

namespace {
std::string formatList(const std::vector<int64_t> &values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "]";
}
} // namespace

std::string formatTensorSpec(const TensorSpec &spec) {
  const Sharding &s = spec.sharding;
  std::string sharding;
  switch (s.kind) {
  case ShardKind::Replicated:
    sharding = "{\"kind\": \"replicated\"}";
    break;
  case ShardKind::Partial:
    sharding = std::string("{\"kind\": \"partial\", \"reduction\": \"") +
               rt::reduceOpName(s.reduction) + "\"}";
    break;
  case ShardKind::Split:
    sharding = "{\"kind\": \"split\", \"dim\": " + std::to_string(s.dim);
    if (!s.segments.empty())
      sharding += ", \"segments\": " + formatList(s.segments);
    if (!s.replicatedSegments.empty())
      sharding +=
          ", \"replicated_segments\": " + formatList(s.replicatedSegments);
    sharding += "}";
    break;
  }
  return std::string("{\"dtype\": \"") + rt::dtypeName(spec.dtype) +
         "\", \"global_shape\": " + formatList(spec.globalShape) +
         ", \"local_shape\": " + formatList(spec.localShape) +
         ", \"sharding\": " + sharding + "}";
}

bool operator==(const Sharding &a, const Sharding &b) {
  if (a.kind != b.kind)
    return false;
  if (a.kind == ShardKind::Partial)
    return a.reduction == b.reduction;
  return a.kind == ShardKind::Replicated ||
         (a.dim == b.dim && a.segments == b.segments &&
          a.replicatedSegments == b.replicatedSegments);
}

bool parseManifest(std::string_view text, Manifest &manifest,
                   std::string &error) {
  JsonValue root;
  std::string jsonError;
  if (!parseJson(text, root, jsonError)) {
    error = "malformed JSON: " + jsonError;
    return false;
  }
  ManifestReader reader;
  Manifest parsed;
  if (!reader.read(root, parsed)) {
    error = reader.error;
    return false;
  }
  manifest = std::move(parsed);
  return true;
}

bool Sharding::isSegmentReplicated(size_t i) const {
  for (int64_t r : replicatedSegments)
    if (r == int64_t(i))
      return true;
  return false;
}

int64_t Sharding::localSegmentSize(size_t i, int64_t tpSize) const {
  return sharding::localSegmentExtent(segments[i], isSegmentReplicated(i),
                                      tpSize);
}

std::string describeSharding(const Sharding &sharding) {
  switch (sharding.kind) {
  case ShardKind::Replicated:
    return "replicated";
  case ShardKind::Split: {
    std::string text = "split(dim=" + std::to_string(sharding.dim);
    if (!sharding.segments.empty()) {
      text += ", segments=[";
      for (size_t i = 0; i < sharding.segments.size(); ++i)
        text += (i ? "," : "") + std::to_string(sharding.segments[i]);
      text += "]";
    }
    if (!sharding.replicatedSegments.empty()) {
      text += ", replicated=[";
      for (size_t i = 0; i < sharding.replicatedSegments.size(); ++i)
        text += (i ? "," : "") + std::to_string(sharding.replicatedSegments[i]);
      text += "]";
    }
    return text + ")";
  }
  case ShardKind::Partial:
    return std::string("partial(") + rt::reduceOpName(sharding.reduction) + ")";
  }
  return "?";
}

SplitGeometry splitGeometry(const TensorSpec &spec) {
  SplitGeometry g;
  if (spec.sharding.kind != ShardKind::Split) {
    g.global = g.local = 1;
    g.inner = spec.globalElements();
    return g;
  }
  int64_t d = spec.sharding.dim;
  for (int64_t i = 0; i < d; ++i)
    g.outer *= spec.globalShape[i];
  g.global = spec.globalShape[d];
  g.local = spec.localShape[d];
  for (size_t i = size_t(d) + 1; i < spec.globalShape.size(); ++i)
    g.inner *= spec.globalShape[i];
  return g;
}

} // namespace tp::launch
