//===- Rendezvous.cpp - TCP id exchange and liveness channel --------------===//

#include "Bootstrap/Rendezvous.h"
#include "Bootstrap/Wire.h"
#include "Common/ExitCode.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace tp::boot {

namespace {

using namespace wire;

using Clock = std::chrono::steady_clock;

int millisecondsUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - Clock::now())
                  .count();
  return left < 0 ? 0 : left > 1000000000 ? 1000000000 : int(left);
}

std::string errnoText(int e) { return std::strerror(e); }

/// Sends the whole buffer; never raises SIGPIPE. `wait` false: give up
/// instead of blocking on a full socket buffer.
bool sendAll(int fd, const void *data, size_t bytes, bool wait = true) {
  const char *p = static_cast<const char *>(data);
  while (bytes > 0) {
    ssize_t n = ::send(fd, p, bytes, MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    bytes -= size_t(n);
  }
  return true;
}

bool sendMessage(int fd, uint32_t type, int32_t a, int32_t b, const void *body,
                 size_t length, bool wait = true) {
  std::string frame = encode(type, a, b, body, length);
  return sendAll(fd, frame.data(), frame.size(), wait);
}

enum class ReadResult { Ok, Closed, TimedOut, Garbage };

/// Reads exactly `bytes` before the deadline.
ReadResult readAll(int fd, void *data, size_t bytes,
                   Clock::time_point deadline) {
  char *p = static_cast<char *>(data);
  while (bytes > 0) {
    pollfd pfd{fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, millisecondsUntil(deadline));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready == 0)
      return ReadResult::TimedOut;
    ssize_t n = ::recv(fd, p, bytes, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n <= 0)
      return ReadResult::Closed;
    p += n;
    bytes -= size_t(n);
  }
  return ReadResult::Ok;
}

ReadResult readMessage(int fd, Message &message, Clock::time_point deadline) {
  unsigned char header[headerSize];
  ReadResult r = readAll(fd, header, sizeof(header), deadline);
  if (r != ReadResult::Ok)
    return r;
  Decoder decoder;
  size_t used = 0;
  Decoder::Status status = decoder.feed(header, sizeof(header), used);
  if (status == Decoder::Garbage)
    return ReadResult::Garbage;
  message = decoder.message();
  if (status == Decoder::Done)
    return ReadResult::Ok;
  size_t length = ntohl(reinterpret_cast<const uint32_t *>(header)[4]);
  message.body.assign(length, '\0');
  return readAll(fd, message.body.data(), length, deadline);
}

/// A connection to rank 0 that has not said a valid hello yet.
struct Pending {
  int fd = -1;
  Clock::time_point deadline;
  Decoder decoder{maxHelloBody};
};

/// How long a new connection may take to say hello before it is dropped
/// (it does not hold up the others meanwhile).
constexpr auto helloTimeout = std::chrono::seconds(10);

void setCloseOnExec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags >= 0)
    fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

void setNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

std::string endpoint(const MasterAddress &address) {
  return address.host + ":" + std::to_string(address.port);
}

/// True if `fd` is connected to itself (the same address and port at both
/// ends).
bool isSelfConnection(int fd) {
  sockaddr_storage local{}, peer{};
  socklen_t localLen = sizeof(local), peerLen = sizeof(peer);
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &localLen) != 0 ||
      getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &peerLen) != 0)
    return false;
  return localLen == peerLen && std::memcmp(&local, &peer, localLen) == 0;
}

/// A listening socket on the master address, which must be an address of
/// this machine: never every interface unless that is what was asked
/// (TP_MASTER_ADDR=0.0.0.0).
int listenOn(const MasterAddress &address, int backlog, std::string &error) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  if (int rc = getaddrinfo(address.host.c_str(), nullptr, &hints, &found);
      rc != 0) {
    error = "cannot resolve TP_MASTER_ADDR '" + address.host +
            "': " + gai_strerror(rc);
    return -1;
  }
  int fd = -1, bindErrno = EADDRNOTAVAIL;
  for (addrinfo *a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      bindErrno = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in local = *reinterpret_cast<sockaddr_in *>(a->ai_addr);
    local.sin_port = htons(uint16_t(address.port));
    if (::bind(fd, reinterpret_cast<sockaddr *>(&local), sizeof(local)) != 0) {
      bindErrno = errno;
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    error = "cannot listen on " + endpoint(address) + ": " +
            errnoText(bindErrno) +
            (bindErrno == EADDRNOTAVAIL
                 ? " (TP_MASTER_ADDR must name an address of rank 0's own "
                   "machine)"
                 : " (set TP_MASTER_PORT to a free port)");
    return -1;
  }
  if (::listen(fd, backlog) != 0) {
    error = "cannot listen on " + endpoint(address) + ": " + errnoText(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

/// One connection attempt with a bounded wait; -1 and `error` on failure.
int connectOnce(const MasterAddress &address, Clock::time_point deadline,
                std::string &error) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  std::string port = std::to_string(address.port);
  if (int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    error = "cannot resolve '" + address.host + "': " + gai_strerror(rc);
    return -1;
  }
  int result = -1;
  for (addrinfo *a = found; a && result < 0; a = a->ai_next) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      error = "socket: " + errnoText(errno);
      continue;
    }
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd pfd{fd, POLLOUT, 0};
      int wait = std::min(millisecondsUntil(deadline), 2000);
      rc = ::poll(&pfd, 1, wait) == 1 ? 0 : -1;
      int soError = ETIMEDOUT;
      socklen_t len = sizeof(soError);
      if (rc == 0 &&
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len) == 0 &&
          soError == 0) {
        rc = 0;
      } else {
        rc = -1;
        errno = soError ? soError : ETIMEDOUT;
      }
    }
    // A connection to a local port nobody listens on yet can be made to
    // itself (TCP simultaneous open, when the kernel picks that very port as
    // the source): the rank would then talk to itself. Not rank 0: retry.
    if (rc == 0 && isSelfConnection(fd)) {
      rc = -1;
      errno = ECONNREFUSED;
    }
    if (rc == 0) {
      int flags = fcntl(fd, F_GETFL);
      fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
      setNoDelay(fd);
      result = fd;
    } else {
      error = errnoText(errno);
      ::close(fd);
    }
  }
  freeaddrinfo(found);
  return result;
}

std::string rankList(const std::set<int> &ranks) {
  std::string text;
  for (int r : ranks)
    text += (text.empty() ? "" : ", ") + std::to_string(r);
  return text;
}

} // namespace

Rendezvous::~Rendezvous() {
  std::lock_guard<std::mutex> lock(mutex);
  for (size_t i = 0; i < fds.size(); ++i)
    closeLocked(int(i));
}

void Rendezvous::closeLocked(int index) {
  if (fds[index] >= 0)
    ::close(fds[index]);
  fds[index] = -1;
}

bool Rendezvous::exchange(int rankArg, int sizeArg,
                          const MasterAddress &address,
                          std::vector<unsigned char> &payload,
                          std::string &error) {
  rank = rankArg;
  size = sizeArg;
  lastTimedOut = false;
  if (size <= 1)
    return true;
  const auto deadline =
      Clock::now() +
      std::chrono::milliseconds(int64_t(address.timeoutSeconds * 1000.0 + 0.5));
  char seconds[32];
  std::snprintf(seconds, sizeof(seconds), "%g s", address.timeoutSeconds);

  if (rank != 0) {
    // Connect, retrying while rank 0 is not listening yet.
    int fd = -1;
    std::string reason;
    while (fd < 0) {
      fd = connectOnce(address, deadline, reason);
      if (fd >= 0)
        break;
      if (millisecondsUntil(deadline) == 0) {
        lastTimedOut = true;
        error = "rendezvous: could not connect to rank 0 at " +
                endpoint(address) + " within " + seconds + " (" + reason +
                "); is rank 0 running, and are TP_MASTER_ADDR / "
                "TP_MASTER_PORT the same on every rank?";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::min(100, millisecondsUntil(deadline))));
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      fds.assign(1, fd);
    }
    if (!sendMessage(fd, Hello, rank, size, address.secret.data(),
                     address.secret.size())) {
      error = "rendezvous: lost the connection to rank 0 at " +
              endpoint(address) + " while saying hello";
      return false;
    }
    // A little longer than rank 0's own deadline, so that its message about
    // the missing ranks arrives first.
    Message message;
    ReadResult r = readMessage(fd, message, deadline + std::chrono::seconds(3));
    if (r == ReadResult::TimedOut) {
      lastTimedOut = true;
      error = std::string("rendezvous: rank 0 did not send the id within ") +
              seconds + " (waiting for the other ranks?)";
      return false;
    }
    if (r != ReadResult::Ok) {
      error = "rendezvous: rank 0 closed the connection before sending the "
              "id (it failed, was not a tp rank, or has another "
              "TP_RENDEZVOUS_SECRET)";
      return false;
    }
    if (message.type == Error) {
      error = "rendezvous failed on rank 0: " + message.body;
      return false;
    }
    if (message.type != Payload) {
      error = "rendezvous: unexpected message from rank 0";
      return false;
    }
    payload.assign(message.body.begin(), message.body.end());
    return true;
  }

  // Rank 0.
  int listener = address.listenFd;
  if (listener < 0) {
    listener = listenOn(address, size + 8, error);
    if (listener < 0) {
      error = "rendezvous: " + error;
      return false;
    }
  } else {
    setCloseOnExec(listener);
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    fds.assign(size_t(size), -1);
  }
  std::set<int> missing;
  for (int r = 1; r < size; ++r)
    missing.insert(r);
  auto failAll = [&](const std::string &text) {
    std::lock_guard<std::mutex> lock(mutex);
    for (int r = 1; r < size; ++r)
      if (fds[r] >= 0) {
        sendMessage(fds[r], Error, 0, 0, text.data(), text.size(), false);
        closeLocked(r);
      }
    ::close(listener);
    error = "rendezvous: " + text;
    return false;
  };
  // Every connection is read as its bytes arrive: a peer that connects and
  // says nothing (or something else) is dropped after helloTimeout without
  // holding up the ranks, and only a hello with the job's secret makes a
  // rank.
  std::vector<Pending> pending;
  const size_t maxPending = size_t(size) * 4 + 16;
  int dropped = 0;
  auto drop = [&](size_t k) {
    ::close(pending[k].fd);
    pending.erase(pending.begin() + long(k));
    ++dropped;
  };
  auto connected = [](int r, void *self) {
    return static_cast<Rendezvous *>(self)->fds[r] >= 0;
  };
  auto closePending = [&] {
    for (Pending &p : pending)
      ::close(p.fd);
    pending.clear();
  };
  while (!missing.empty()) {
    auto now = Clock::now();
    for (size_t k = pending.size(); k-- > 0;)
      if (pending[k].deadline <= now)
        drop(k);
    if (now >= deadline) {
      closePending();
      lastTimedOut = true;
      std::string note =
          dropped ? " (" + std::to_string(dropped) +
                        " connection(s) without a valid hello were dropped: "
                        "is TP_RENDEZVOUS_SECRET the same on every rank?)"
                  : "";
      return failAll("timed out after " + std::string(seconds) +
                     " waiting for rank" + (missing.size() > 1 ? "s " : " ") +
                     rankList(missing) + " (of " + std::to_string(size) +
                     ") to connect to " + endpoint(address) + note);
    }
    auto wakeUp = deadline;
    for (const Pending &p : pending)
      wakeUp = std::min(wakeUp, p.deadline);
    std::vector<pollfd> pfds{pollfd{listener, POLLIN, 0}};
    for (const Pending &p : pending)
      pfds.push_back(pollfd{p.fd, POLLIN, 0});
    int ready = ::poll(pfds.data(), pfds.size(), millisecondsUntil(wakeUp));
    if (ready <= 0)
      continue; // EINTR or a deadline: checked above
    // Read the pending connections first (their indices match pfds).
    for (size_t k = pending.size(); k-- > 0;) {
      if (!pfds[k + 1].revents)
        continue;
      char buffer[512];
      ssize_t n = ::recv(pending[k].fd, buffer, sizeof(buffer), 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        continue;
      if (n <= 0) {
        drop(k);
        continue;
      }
      size_t used = 0;
      Decoder::Status status = pending[k].decoder.feed(buffer, size_t(n), used);
      if (status == Decoder::NeedMore)
        continue;
      // Garbage, or a message followed by more bytes than a hello: drop.
      if (status == Decoder::Garbage || used != size_t(n)) {
        drop(k);
        continue;
      }
      const Message &hello = pending[k].decoder.message();
      std::string problem;
      HelloVerdict verdict;
      {
        std::lock_guard<std::mutex> lock(mutex);
        verdict =
            checkHello(hello, address.secret, size, connected, this, problem);
      }
      if (verdict == HelloVerdict::Drop) {
        drop(k);
        continue;
      }
      int fd = pending[k].fd;
      pending.erase(pending.begin() + long(k));
      if (verdict == HelloVerdict::Fail) {
        sendMessage(fd, Error, 0, 0, problem.data(), problem.size(), false);
        ::close(fd);
        closePending();
        return failAll(problem);
      }
      int flags = fcntl(fd, F_GETFL);
      fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
      {
        std::lock_guard<std::mutex> lock(mutex);
        fds[hello.a] = fd;
      }
      missing.erase(hello.a);
    }
    if (pfds[0].revents) {
      int fd =
          ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0)
        continue;
      setNoDelay(fd);
      if (pending.size() >= maxPending)
        drop(0); // the oldest
      Pending p;
      p.fd = fd;
      p.deadline = std::min(deadline, Clock::now() + helloTimeout);
      pending.push_back(std::move(p));
    }
  }
  closePending();
  ::close(listener);
  std::lock_guard<std::mutex> lock(mutex);
  for (int r = 1; r < size; ++r)
    if (!sendMessage(fds[r], Payload, 0, 0, payload.data(), payload.size())) {
      error = "rendezvous: lost rank " + std::to_string(r) +
              " while sending the id";
      for (int q = 1; q < size; ++q)
        closeLocked(q);
      return false;
    }
  return true;
}

PeerEvent Rendezvous::poll(int timeoutMs) {
  PeerEvent event;
  std::vector<pollfd> pfds;
  std::vector<int> owners;
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (size_t i = 0; i < fds.size(); ++i)
      if (fds[i] >= 0) {
        pfds.push_back(pollfd{fds[i], POLLIN, 0});
        owners.push_back(int(i));
      }
  }
  if (pfds.empty()) {
    if (timeoutMs > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(timeoutMs));
    return event;
  }
  int ready = ::poll(pfds.data(), pfds.size(), timeoutMs);
  if (ready <= 0)
    return event;
  for (size_t k = 0; k < pfds.size(); ++k) {
    if (!pfds[k].revents)
      continue;
    const int index = owners[k];
    const int peer = rank == 0 ? index : 0;
    Message message;
    ReadResult r = readMessage(pfds[k].fd, message,
                               Clock::now() + std::chrono::seconds(2));
    std::lock_guard<std::mutex> lock(mutex);
    if (fds[index] != pfds[k].fd)
      continue; // closed meanwhile
    if (r != ReadResult::Ok) {
      closeLocked(index);
      event.kind = PeerEvent::PeerLost;
      event.peer = peer;
      return event;
    }
    if (message.type == Bye) {
      closeLocked(index);
      continue;
    }
    if (message.type == Abort) {
      // Rank 0 knows who sent it: the origin is the connection's rank, not
      // what the message claims (the other ranks hear only from rank 0,
      // which forwards it with that origin). The code can never read as
      // success (_exit(256) is status 0).
      event.kind = PeerEvent::PeerAborted;
      event.peer = rank == 0 ? index : message.a;
      event.exitCode = rt::failureExitCode(message.b);
      event.message = message.body.substr(0, maxAbortText);
      if (rank == 0)
        for (int r2 = 1; r2 < size; ++r2)
          if (r2 != index && fds[r2] >= 0)
            sendMessage(fds[r2], Abort, event.peer, event.exitCode,
                        event.message.data(), event.message.size(), false);
      return event;
    }
    // Anything else after the exchange is ignored.
  }
  return event;
}

void Rendezvous::announceAbort(int origin, int exitCode,
                               const std::string &message) {
  std::string text = message.substr(0, maxAbortText);
  exitCode = rt::failureExitCode(exitCode);
  std::lock_guard<std::mutex> lock(mutex);
  for (int fd : fds)
    if (fd >= 0)
      sendMessage(fd, Abort, origin, exitCode, text.data(), text.size(), false);
}

void Rendezvous::goodbye() {
  std::lock_guard<std::mutex> lock(mutex);
  for (size_t i = 0; i < fds.size(); ++i)
    if (fds[i] >= 0) {
      sendMessage(fds[i], Bye, rank, 0, nullptr, 0, false);
      closeLocked(int(i));
    }
}

int Rendezvous::connectedPeers() {
  std::lock_guard<std::mutex> lock(mutex);
  int n = 0;
  for (int fd : fds)
    n += fd >= 0;
  return n;
}

} // namespace tp::boot
