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

void setBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

/// Connects to rank 0, retrying while it is not listening yet; -1 with
/// `error` (and `timedOut`) once the deadline has passed.
int connectWithRetries(const MasterAddress &address, Clock::time_point deadline,
                       const std::string &timeoutText, bool &timedOut,
                       std::string &error) {
  std::string reason;
  for (;;) {
    int fd = connectOnce(address, deadline, reason);
    if (fd >= 0)
      return fd;
    if (millisecondsUntil(deadline) == 0) {
      timedOut = true;
      error = "rendezvous: could not connect to rank 0 at " +
              endpoint(address) + " within " + timeoutText + " (" + reason +
              "); is rank 0 running, and are TP_MASTER_ADDR / "
              "TP_MASTER_PORT the same on every rank?";
      return -1;
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::min(100, millisecondsUntil(deadline))));
  }
}

/// Waits for rank 0's answer to the hello: the id into `payload`, or false
/// with `error` (and `timedOut`).
bool receiveId(int fd, Clock::time_point deadline,
               const std::string &timeoutText, bool &timedOut,
               std::vector<unsigned char> &payload, std::string &error) {
  // A little longer than rank 0's own deadline, so that its message about
  // the missing ranks arrives first.
  Message message;
  ReadResult r = readMessage(fd, message, deadline + std::chrono::seconds(3));
  if (r == ReadResult::TimedOut) {
    timedOut = true;
    error = "rendezvous: rank 0 did not send the id within " + timeoutText +
            " (waiting for the other ranks?)";
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

} // namespace

/// A connection that said a whole hello (not judged yet).
struct Arrival {
  int fd = -1;
  Message hello;
};

/// Rank 0's waiting room: the listener and the connections accepted on it
/// that have not said a whole hello yet. Every connection is read as its
/// bytes arrive, so a peer that connects and says nothing (or something
/// else) is dropped after helloTimeout without holding up the ranks. Closes
/// the listener and whatever still waits when it goes.
class WaitingRoom {
public:
  WaitingRoom(int listener, int size)
      : listener(listener), capacity(size_t(size) * 4 + 16) {}
  ~WaitingRoom() {
    for (Pending &p : pending)
      ::close(p.fd);
    ::close(listener);
  }
  WaitingRoom(const WaitingRoom &) = delete;
  WaitingRoom &operator=(const WaitingRoom &) = delete;

  /// Drops the connections whose hello is overdue at `now`.
  void dropOverdue(Clock::time_point now) {
    for (size_t k = pending.size(); k-- > 0;)
      if (pending[k].deadline <= now)
        drop(k);
  }

  /// Waits until a connection has bytes, a new one knocks, or `deadline`
  /// (or a waiting connection's own) passes. False if nothing is ready.
  bool wait(Clock::time_point deadline) {
    auto wakeUp = deadline;
    polled.assign(1, pollfd{listener, POLLIN, 0});
    for (const Pending &p : pending) {
      wakeUp = std::min(wakeUp, p.deadline);
      polled.push_back(pollfd{p.fd, POLLIN, 0});
    }
    if (::poll(polled.data(), polled.size(), millisecondsUntil(wakeUp)) > 0)
      return true;
    polled.clear(); // EINTR or a deadline: nothing to read
    return false;
  }

  /// Reads what the last wait() found on each waiting connection and takes
  /// the ones whose hello is now whole out of the room. A connection that
  /// closes, sends garbage, or more than a hello is dropped.
  std::vector<Arrival> takeHellos() {
    std::vector<Arrival> arrivals;
    // polled[k + 1] is pending[k] as they were at the wait; going backwards
    // keeps the lower indices valid while entries are erased.
    for (size_t k = std::min(pending.size(), polled.size() - 1); k-- > 0;) {
      if (!polled[k + 1].revents)
        continue;
      char buffer[512];
      ssize_t n = ::recv(pending[k].fd, buffer, sizeof(buffer), 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        continue;
      size_t used = 0;
      Decoder::Status status =
          n <= 0 ? Decoder::Garbage
                 : pending[k].decoder.feed(buffer, size_t(n), used);
      if (status == Decoder::NeedMore)
        continue;
      if (status == Decoder::Garbage || used != size_t(n)) {
        drop(k);
        continue;
      }
      // Copy the hello out before its entry is erased.
      arrivals.push_back(Arrival{pending[k].fd, pending[k].decoder.message()});
      pending.erase(pending.begin() + long(k));
    }
    return arrivals;
  }

  /// Accepts one new connection if the last wait() found one knocking.
  void acceptNewcomer(Clock::time_point deadline) {
    if (polled.empty() || !polled[0].revents)
      return;
    int fd =
        ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
      return;
    setNoDelay(fd);
    if (pending.size() >= capacity)
      drop(0); // the oldest
    Pending p;
    p.fd = fd;
    p.deadline = std::min(deadline, Clock::now() + helloTimeout);
    pending.push_back(std::move(p));
  }

  /// Closes a connection whose hello was not one of ours.
  void reject(const Arrival &arrival) {
    ::close(arrival.fd);
    ++dropped;
  }

  /// How many connections were dropped without a valid hello.
  int droppedCount() const { return dropped; }

private:
  /// A connection that has not said a whole hello yet.
  struct Pending {
    int fd = -1;
    Clock::time_point deadline;
    Decoder decoder{maxHelloBody};
  };

  void drop(size_t k) {
    ::close(pending[k].fd);
    pending.erase(pending.begin() + long(k));
    ++dropped;
  }

  int listener;
  size_t capacity;
  std::vector<Pending> pending;
  std::vector<pollfd> polled; // the last wait(): the listener, then pending
  int dropped = 0;
};

namespace {

/// Rank 0's listening socket: the inherited one, or a new one on the
/// master address; -1 with `error`.
int openListener(const MasterAddress &address, int size, std::string &error) {
  if (address.listenFd >= 0) {
    setCloseOnExec(address.listenFd);
    return address.listenFd;
  }
  int listener = listenOn(address, size + 8, error);
  if (listener < 0)
    error = "rendezvous: " + error;
  return listener;
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
  return rank == 0 ? serveId(address, deadline, seconds, payload, error)
                   : fetchId(address, deadline, seconds, payload, error);
}

bool Rendezvous::fetchId(const MasterAddress &address,
                         Clock::time_point deadline,
                         const std::string &timeoutText,
                         std::vector<unsigned char> &payload,
                         std::string &error) {
  int fd =
      connectWithRetries(address, deadline, timeoutText, lastTimedOut, error);
  if (fd < 0)
    return false;
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
  return receiveId(fd, deadline, timeoutText, lastTimedOut, payload, error);
}

bool Rendezvous::serveId(const MasterAddress &address,
                         Clock::time_point deadline,
                         const std::string &timeoutText,
                         const std::vector<unsigned char> &payload,
                         std::string &error) {
  int listener = openListener(address, size, error);
  if (listener < 0)
    return false;
  {
    std::lock_guard<std::mutex> lock(mutex);
    fds.assign(size_t(size), -1);
  }
  std::string problem;
  {
    WaitingRoom room(listener, size);
    problem = admitRanks(room, address, deadline, timeoutText);
  } // the listener and the connections still waiting are closed here
  if (!problem.empty()) {
    failAll(problem);
    error = "rendezvous: " + problem;
    return false;
  }
  return sendToAll(payload, error);
}

std::string Rendezvous::admitRanks(WaitingRoom &room,
                                   const MasterAddress &address,
                                   Clock::time_point deadline,
                                   const std::string &timeoutText) {
  std::set<int> missing;
  for (int r = 1; r < size; ++r)
    missing.insert(r);
  auto connected = [](int r, void *self) {
    return static_cast<Rendezvous *>(self)->fds[r] >= 0;
  };
  while (!missing.empty()) {
    auto now = Clock::now();
    room.dropOverdue(now);
    if (now >= deadline) {
      lastTimedOut = true;
      return timeoutProblem(missing, room.droppedCount(), address, timeoutText);
    }
    if (!room.wait(deadline))
      continue;
    for (const Arrival &arrival : room.takeHellos()) {
      std::string problem;
      HelloVerdict verdict;
      {
        std::lock_guard<std::mutex> lock(mutex);
        verdict = checkHello(arrival.hello, address.secret, size, connected,
                             this, problem);
      }
      if (verdict == HelloVerdict::Drop) {
        room.reject(arrival);
        continue;
      }
      if (verdict == HelloVerdict::Fail) {
        sendMessage(arrival.fd, Error, 0, 0, problem.data(), problem.size(),
                    false);
        ::close(arrival.fd);
        return problem;
      }
      setBlocking(arrival.fd);
      std::lock_guard<std::mutex> lock(mutex);
      fds[arrival.hello.a] = arrival.fd;
      missing.erase(arrival.hello.a);
    }
    room.acceptNewcomer(deadline);
  }
  return std::string();
}

std::string Rendezvous::timeoutProblem(const std::set<int> &missing,
                                       int dropped,
                                       const MasterAddress &address,
                                       const std::string &timeoutText) {
  std::string note =
      dropped ? " (" + std::to_string(dropped) +
                    " connection(s) without a valid hello were dropped: "
                    "is TP_RENDEZVOUS_SECRET the same on every rank?)"
              : "";
  return "timed out after " + timeoutText + " waiting for rank" +
         (missing.size() > 1 ? "s " : " ") + rankList(missing) + " (of " +
         std::to_string(size) + ") to connect to " + endpoint(address) + note;
}

void Rendezvous::failAll(const std::string &problem) {
  std::lock_guard<std::mutex> lock(mutex);
  for (int r = 1; r < size; ++r)
    if (fds[r] >= 0) {
      sendMessage(fds[r], Error, 0, 0, problem.data(), problem.size(), false);
      closeLocked(r);
    }
}

bool Rendezvous::sendToAll(const std::vector<unsigned char> &payload,
                           std::string &error) {
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
