//===- Json.h - A small JSON reader for the model manifest ------*- C++ -*-===//
//
// Just enough JSON (RFC 8259) for tp_manifest: objects keep their key order,
// numbers remember whether they were written as integers. No dependencies.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_LAUNCH_JSON_H
#define TP_RUNTIME_LAUNCH_JSON_H

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tp::launch {

class JsonValue {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  bool isInteger = false; ///< written without fraction/exponent, fits int64
  int64_t integer = 0;    ///< valid when isInteger
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;

  /// Member `key` of an object, or null if absent (or not an object).
  const JsonValue *find(std::string_view key) const;
  /// "object", "array", ... for messages.
  const char *kindName() const;
};

/// Parses one JSON document (surrounding whitespace allowed). On failure,
/// `error` says where: "line 3, column 14: expected ',' or '}'".
bool parseJson(std::string_view text, JsonValue &value, std::string &error);

} // namespace tp::launch

#endif // TP_RUNTIME_LAUNCH_JSON_H
