//===- Wire.cpp - The rendezvous protocol's messages ----------------------===//

#include "Bootstrap/Wire.h"

#include <arpa/inet.h>
#include <cstring>

namespace tp::boot::wire {

std::string encode(uint32_t type, int32_t a, int32_t b, const void *body,
                   size_t length) {
  uint32_t header[5] = {htonl(magic), htonl(type), htonl(uint32_t(a)),
                        htonl(uint32_t(b)), htonl(uint32_t(length))};
  std::string frame(reinterpret_cast<const char *>(header), sizeof(header));
  if (length > 0)
    frame.append(static_cast<const char *>(body), length);
  return frame;
}

void Decoder::reset() {
  headerFill = 0;
  bodyLength = 0;
  haveHeader = false;
  current = Message();
}

Decoder::Status Decoder::feed(const void *data, size_t size,
                              size_t &consumed) {
  const unsigned char *bytes = static_cast<const unsigned char *>(data);
  consumed = 0;
  if (!haveHeader) {
    size_t take = headerSize - headerFill;
    if (take > size)
      take = size;
    if (take > 0)
      std::memcpy(header + headerFill, bytes, take);
    headerFill += take;
    consumed += take;
    if (headerFill < headerSize)
      return NeedMore;
    uint32_t words[5];
    std::memcpy(words, header, sizeof(words));
    if (ntohl(words[0]) != magic)
      return Garbage;
    uint32_t length = ntohl(words[4]);
    if (length > bodyLimit)
      return Garbage;
    current.type = ntohl(words[1]);
    current.a = int32_t(ntohl(words[2]));
    current.b = int32_t(ntohl(words[3]));
    current.body.clear();
    current.body.reserve(length);
    bodyLength = length;
    haveHeader = true;
  }
  size_t take = bodyLength - current.body.size();
  if (take > size - consumed)
    take = size - consumed;
  current.body.append(reinterpret_cast<const char *>(bytes + consumed), take);
  consumed += take;
  return current.body.size() == bodyLength ? Done : NeedMore;
}

bool sameSecret(const std::string &a, const std::string &b) {
  if (a.size() != b.size())
    return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i)
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  return difference == 0;
}

HelloVerdict checkHello(const Message &hello, const std::string &secret,
                        int size, bool (*alreadyConnected)(int, void *),
                        void *context, std::string &problem) {
  if (hello.type != Hello || !sameSecret(hello.body, secret))
    return HelloVerdict::Drop;
  // The peer knows the job's secret: it is one of ours, so an inconsistent
  // hello is a misconfiguration that would otherwise end in a timeout.
  if (hello.b != size)
    problem = "rank " + std::to_string(hello.a) + " thinks the job has " +
              std::to_string(hello.b) + " ranks, rank 0 thinks " +
              std::to_string(size);
  else if (hello.a < 1 || hello.a >= size)
    problem = "a peer says it is rank " + std::to_string(hello.a) +
              ", outside [1, " + std::to_string(size) + ")";
  else if (alreadyConnected(hello.a, context))
    problem = "two processes say they are rank " + std::to_string(hello.a);
  return problem.empty() ? HelloVerdict::Accept : HelloVerdict::Fail;
}

} // namespace tp::boot::wire
