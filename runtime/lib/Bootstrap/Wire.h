//===- Wire.h - The rendezvous protocol's messages --------------*- C++ -*-===//
//
// Every message is a 20-byte header {magic, type, a, b, length} of 32-bit
// words in network byte order, then `length` bytes of body. The Decoder
// takes bytes as they arrive (any split), so that rank 0 can read many
// connections at once without blocking on one, and is what the fuzz
// harness (runtime/test/fuzz) feeds with arbitrary input.
//
// A hello is {Hello, rank, size} with the job's secret as its body. Rank 0
// accepts a peer only if the secret matches (see checkHello); anything else
// from an unauthenticated peer is dropped without failing the job.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_BOOTSTRAP_WIRE_H
#define TP_RUNTIME_BOOTSTRAP_WIRE_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace tp::boot::wire {

constexpr uint32_t magic = 0x54505256; // "TPRV"
constexpr size_t headerSize = 20;
/// Largest body accepted from a rank (the NCCL id is 128 bytes, abort
/// messages are short).
constexpr uint32_t maxBody = 1 << 20;
/// Largest hello body (the secret) accepted from a peer not yet known.
constexpr uint32_t maxHelloBody = 1024;
/// Longest abort message forwarded or printed.
constexpr size_t maxAbortText = 4096;

enum MessageType : uint32_t {
  Hello = 1,   // a = rank, b = size, body = the job's secret
  Payload = 2, // body = the id
  Error = 3,   // body = text
  Bye = 4,
  Abort = 5, // a = origin rank, b = exit code, body = text
};

struct Message {
  uint32_t type = 0;
  int32_t a = 0;
  int32_t b = 0;
  std::string body;
};

/// The bytes of one message.
std::string encode(uint32_t type, int32_t a, int32_t b, const void *body,
                   size_t length);

/// Reassembles one message from bytes fed in any pieces.
class Decoder {
public:
  enum Status { NeedMore, Done, Garbage };
  explicit Decoder(uint32_t bodyLimit = maxBody) : bodyLimit(bodyLimit) {}

  /// Takes up to `size` bytes, stopping at the end of the message; returns
  /// how many it took in `consumed`. Done: message() is complete. Garbage:
  /// a bad magic or a body over the limit (the connection must be dropped).
  Status feed(const void *data, size_t size, size_t &consumed);
  const Message &message() const { return current; }
  /// Starts over for the next message.
  void reset();

private:
  uint32_t bodyLimit;
  unsigned char header[headerSize];
  size_t headerFill = 0;
  size_t bodyLength = 0;
  bool haveHeader = false;
  Message current;
};

/// What rank 0 does with a hello from a new connection.
enum class HelloVerdict {
  Accept, ///< rank `message.a` of this job
  Drop,   ///< not one of ours (wrong type or secret): close it, go on
  Fail    ///< one of ours, but inconsistent: the job cannot start
};

/// Judges `hello` for a job of `size` ranks with `secret` ("" when the job
/// has none: then every peer is taken as one of ours). `alreadyConnected`
/// tells whether a rank is taken. Fail comes with a message in `problem`.
HelloVerdict checkHello(const Message &hello, const std::string &secret,
                        int size, bool (*alreadyConnected)(int, void *),
                        void *context, std::string &problem);

/// Compares two strings in time that depends only on their lengths.
bool sameSecret(const std::string &a, const std::string &b);

} // namespace tp::boot::wire

#endif // TP_RUNTIME_BOOTSTRAP_WIRE_H
