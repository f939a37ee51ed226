//===- RendezvousFuzz.cpp - Fuzz harness for the rendezvous messages ------===//
//
// Any bytes, as a peer could send them to rank 0, cut into pieces of the
// sizes the first byte picks: the decoder must take them without reading
// past what it was given, never report more bytes consumed than fed, stop
// at garbage, and every complete message must go through checkHello
// (which must not accept a rank outside the job) and the abort path's
// exit-code mapping (which must never give 0).
//
//===----------------------------------------------------------------------===//

#include "Bootstrap/Wire.h"
#include "Common/ExitCode.h"

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

using namespace tp::boot::wire;

namespace {

bool taken(int rank, void *context) {
  return static_cast<std::set<int> *>(context)->count(rank) != 0;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  // The first byte picks the piece size, whether the job has a secret and
  // the body limit (a new connection's, or a rank's).
  const uint8_t control = data[0];
  const size_t piece = 1 + control % 32;
  const std::string secret = (control & 0x80) ? "" : "s3cret";
  Decoder decoder((control & 0x40) ? maxHelloBody : 64);
  ++data;
  --size;
  const int jobSize = 4;
  std::set<int> ranks;
  size_t at = 0;
  while (at < size) {
    size_t length = size - at < piece ? size - at : piece;
    size_t used = 0;
    Decoder::Status status = decoder.feed(data + at, length, used);
    if (used > length)
      std::abort();
    at += used;
    if (status == Decoder::Garbage)
      return 0; // rank 0 drops the connection
    if (status == Decoder::NeedMore) {
      if (used != length)
        std::abort(); // it must take everything it was given
      continue;
    }
    const Message &message = decoder.message();
    std::string problem;
    HelloVerdict verdict =
        checkHello(message, secret, jobSize, taken, &ranks, problem);
    if (verdict == HelloVerdict::Accept) {
      if (message.a < 1 || message.a >= jobSize || ranks.count(message.a) ||
          !sameSecret(message.body, secret))
        std::abort();
      ranks.insert(message.a);
    }
    if (verdict == HelloVerdict::Fail && problem.empty())
      std::abort();
    if (message.type == Abort && tp::rt::failureExitCode(message.b) == 0)
      std::abort();
    decoder.reset();
    if (used == 0 && length > 0)
      std::abort(); // no progress
  }
  return 0;
}
