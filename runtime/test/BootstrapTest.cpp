//===- BootstrapTest.cpp - Rank placement, rendezvous, spawn (no GPU) -----===//
//
// The NCCL backend's bootstrap without NCCL or a GPU:
//  - rank / size / local rank from each environment variable family, and
//    the errors for malformed ones; device choice; TP_MASTER_* parsing;
//  - the TCP rendezvous among N = 1..4 forked processes exchanging a
//    128-byte id (inherited listening socket and explicit port), a peer that
//    never shows up (timeout with a message), a missing rank 0, a peer that
//    dies (the others notice), rank 0 dying, an abort forwarded by rank 0,
//    inconsistent world sizes;
//  - spawn: each rank's environment and device, the job's exit code, and
//    spawnRanks itself (children re-exec this binary with --child).
//
//===----------------------------------------------------------------------===//

#include "Bootstrap/Environment.h"
#include "Bootstrap/Rendezvous.h"
#include "Bootstrap/Spawn.h"
#include "Bootstrap/Wire.h"
#include "TestUtil.h"

#include <arpa/inet.h>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace tp;
using namespace tp::boot;

namespace {

using Env = std::map<std::string, std::string>;

GetEnv lookup(const Env &env) {
  return [&env](const char *name) -> const char * {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
}

Env fromList(const std::vector<std::string> &list) {
  Env env;
  for (const std::string &entry : list) {
    size_t eq = entry.find('=');
    env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

//===----------------------------------------------------------------------===//
// Environment
//===----------------------------------------------------------------------===//

void placementOk(const Env &env, int rank, int size, int local,
                 const std::string &source) {
  Placement p;
  std::string error;
  TP_CHECK_MSG(detectPlacement(lookup(env), p, error), error);
  TP_CHECK(p.rank == rank && p.size == size && p.localRank == local);
  TP_CHECK_CONTAINS(p.source, source);
}

void placementFails(const Env &env, const std::string &message) {
  Placement p;
  std::string error;
  TP_CHECK(!detectPlacement(lookup(env), p, error));
  TP_CHECK_CONTAINS(error, message);
}

void testPlacement() {
  placementOk({}, 0, 1, 0, "default");
  placementOk({{"TP_RANK", "2"}, {"TP_WORLD_SIZE", "4"}}, 2, 4, 2, "TP_RANK");
  placementOk(
      {{"TP_RANK", "5"}, {"TP_WORLD_SIZE", "8"}, {"TP_LOCAL_RANK", "1"}}, 5, 8,
      1, "TP_RANK/TP_WORLD_SIZE");
  placementOk({{"OMPI_COMM_WORLD_RANK", "3"},
               {"OMPI_COMM_WORLD_SIZE", "4"},
               {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}},
              3, 4, 1, "OMPI_COMM_WORLD_RANK");
  placementOk({{"PMI_RANK", "1"}, {"PMI_SIZE", "2"}, {"MPI_LOCALRANKID", "0"}},
              1, 2, 0, "PMI_RANK/PMI_SIZE");
  placementOk(
      {{"SLURM_PROCID", "6"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "2"}}, 6,
      8, 2, "SLURM_PROCID/SLURM_NTASKS");
  // Generic LOCAL_RANK when the family has none.
  placementOk({{"PMI_RANK", "3"}, {"PMI_SIZE", "4"}, {"LOCAL_RANK", "1"}}, 3, 4,
              1, "PMI_RANK");
  // TP_* wins over the launcher's variables.
  placementOk({{"TP_RANK", "0"},
               {"TP_WORLD_SIZE", "2"},
               {"OMPI_COMM_WORLD_RANK", "1"},
               {"OMPI_COMM_WORLD_SIZE", "2"}},
              0, 2, 0, "TP_RANK");
  placementFails({{"TP_RANK", "1"}}, "TP_RANK is set but TP_WORLD_SIZE is not");
  placementFails({{"SLURM_NTASKS", "4"}},
                 "SLURM_NTASKS is set but SLURM_PROCID is not");
  placementFails({{"TP_RANK", "x"}, {"TP_WORLD_SIZE", "2"}},
                 "TP_RANK='x' is not an integer");
  placementFails({{"TP_RANK", "2"}, {"TP_WORLD_SIZE", "2"}},
                 "TP_RANK=2 is outside [0, 2)");
  placementFails({{"TP_RANK", "0"}, {"TP_WORLD_SIZE", "0"}},
                 "must be at least 1");
  placementFails({{"TP_RANK", "0"}, {"TP_WORLD_SIZE", "2 "}},
                 "is not an integer");
  placementFails(
      {{"PMI_RANK", "0"}, {"PMI_SIZE", "2"}, {"MPI_LOCALRANKID", "-1"}},
      "must not be negative");
}

void testDeviceChoice() {
  Placement p;
  p.rank = 5;
  p.size = 8;
  p.localRank = 5;
  std::string error;
  Env none;
  TP_CHECK(chooseDevice(lookup(none), p, 8, error) == 5);
  TP_CHECK(chooseDevice(lookup(none), p, 4, error) == 1);
  TP_CHECK(chooseDevice(lookup(none), p, 1, error) == 0);
  TP_CHECK(chooseDevice(lookup(none), p, 0, error) == -1);
  TP_CHECK_CONTAINS(error, "no CUDA device is visible");
  Env pinned{{"TP_DEVICE", "2"}};
  TP_CHECK(chooseDevice(lookup(pinned), p, 4, error) == 2);
  Env bad{{"TP_DEVICE", "4"}};
  TP_CHECK(chooseDevice(lookup(bad), p, 4, error) == -1);
  TP_CHECK_CONTAINS(error, "TP_DEVICE='4' is not a device number in [0, 4)");
}

void testMasterAddress() {
  Placement single;
  MasterAddress a;
  std::string error;
  TP_CHECK(masterAddress(lookup({}), single, a, error));
  TP_CHECK(a.listenFd == -1 && a.timeoutSeconds == 120);
  Placement two;
  two.rank = 1;
  two.size = 2;
  two.source = "PMI_RANK/PMI_SIZE";
  TP_CHECK(!masterAddress(lookup({}), two, a, error));
  TP_CHECK_CONTAINS(error, "needs TP_MASTER_ADDR and TP_MASTER_PORT");
  TP_CHECK_CONTAINS(error, "from PMI_RANK/PMI_SIZE");
  Env ok{{"TP_MASTER_ADDR", "node0"},
         {"TP_MASTER_PORT", "29500"},
         {"TP_RENDEZVOUS_TIMEOUT", "2.5"},
         {"TP_RENDEZVOUS_FD", "7"}};
  TP_CHECK_MSG(masterAddress(lookup(ok), two, a, error), error);
  TP_CHECK(a.host == "node0" && a.port == 29500 && a.timeoutSeconds == 2.5);
  TP_CHECK(a.listenFd == -1); // only rank 0 takes the inherited socket
  Placement zero = two;
  zero.rank = 0;
  TP_CHECK(masterAddress(lookup(ok), zero, a, error) && a.listenFd == 7);
  Env badPort{{"TP_MASTER_ADDR", "h"}, {"TP_MASTER_PORT", "70000"}};
  TP_CHECK(!masterAddress(lookup(badPort), two, a, error));
  TP_CHECK_CONTAINS(error, "TP_MASTER_PORT='70000' is not a TCP port");
  Env badTimeout{{"TP_RENDEZVOUS_TIMEOUT", "-1"}};
  TP_CHECK(!masterAddress(lookup(badTimeout), single, a, error));
  TP_CHECK_CONTAINS(error, "TP_RENDEZVOUS_TIMEOUT='-1'");
}

//===----------------------------------------------------------------------===//
// Spawn's pure parts
//===----------------------------------------------------------------------===//

void testRankEnvironment() {
  std::vector<std::string> base{
      "PATH=/bin",        "TP_RANK=9",
      "TP_MASTER_PORT=1", "CUDA_VISIBLE_DEVICES=0,1",
      "TP_DEVICE_X=1",    "TP_RENDEZVOUS_SECRET=stale"};
  for (int devices : {1, 2, 4, 8}) {
    for (int r = 0; r < 4; ++r) {
      Env env = fromList(rankEnvironment(base, r, 4, 31337, 5, "0123abcd"));
      TP_CHECK(env["PATH"] == "/bin");
      TP_CHECK(env["CUDA_VISIBLE_DEVICES"] == "0,1");
      TP_CHECK(env["TP_DEVICE_X"] == "1");
      TP_CHECK(env["TP_RANK"] == std::to_string(r));
      TP_CHECK(env["TP_WORLD_SIZE"] == "4");
      TP_CHECK(env["TP_LOCAL_RANK"] == std::to_string(r));
      TP_CHECK(env["TP_MASTER_ADDR"] == "127.0.0.1");
      TP_CHECK(env["TP_MASTER_PORT"] == "31337");
      TP_CHECK(env.count("TP_RENDEZVOUS_FD") == (r == 0 ? 1u : 0u));
      // What the runtime then derives from it.
      Placement p;
      MasterAddress a;
      std::string error;
      TP_CHECK_MSG(detectPlacement(lookup(env), p, error), error);
      TP_CHECK(p.rank == r && p.size == 4);
      TP_CHECK_MSG(masterAddress(lookup(env), p, a, error), error);
      TP_CHECK(a.port == 31337 && a.listenFd == (r == 0 ? 5 : -1));
      TP_CHECK(a.secret == "0123abcd");
      TP_CHECK(chooseDevice(lookup(env), p, devices, error) == r % devices);
    }
  }
  // A new secret for every job.
  std::string error, first = newJobSecret(error), second = newJobSecret(error);
  TP_CHECK_MSG(first.size() == 32 && second.size() == 32, error);
  TP_CHECK(first != second);
  // No duplicate TP_RANK entries.
  auto list = rankEnvironment(base, 1, 2, 1, -1);
  int ranks = 0;
  for (auto &e : list)
    ranks += e.rfind("TP_RANK=", 0) == 0;
  TP_CHECK(ranks == 1);
}

void testExitCode() {
  TP_CHECK(overallExitCode({}) == 0);
  TP_CHECK(overallExitCode({{0, false, 0}, {1, false, 0}}) == 0);
  TP_CHECK(overallExitCode({{1, false, 3}, {0, false, 1}}) == 3);
  TP_CHECK(overallExitCode({{1, true, 11}, {0, false, 1}}) == 11);
  // Ranks the parent killed do not decide the code...
  TP_CHECK(overallExitCode({{0, true, 9, true}, {1, false, 124}}) == 124);
  // ...unless nothing else failed.
  TP_CHECK(overallExitCode({{0, true, 9, true}, {1, false, 0}}) == 9);
}

//===----------------------------------------------------------------------===//
// Rendezvous among forked processes
//===----------------------------------------------------------------------===//

using Clock = std::chrono::steady_clock;

std::vector<unsigned char> testId() {
  std::vector<unsigned char> id(128);
  for (size_t i = 0; i < id.size(); ++i)
    id[i] = static_cast<unsigned char>(i * 7 + 3);
  return id;
}

/// A listening socket on an ephemeral loopback port (what tp-launch --spawn
/// hands to rank 0).
int ephemeralListener(int &port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0 ||
      listen(fd, 16) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) != 0)
    return -1;
  port = ntohs(a.sin_port);
  return fd;
}

/// A port nobody listens on (bound then closed).
int unusedPort() {
  int port = 0;
  int fd = ephemeralListener(port);
  close(fd);
  return port;
}

/// Waits up to `seconds` for an event other than None.
PeerEvent waitForEvent(Rendezvous &r, double seconds) {
  auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    PeerEvent e = r.poll(50);
    if (e.kind != PeerEvent::None)
      return e;
  }
  return PeerEvent();
}

/// Runs `body(rank)` in `ranks.size()` forked processes (only the ranks
/// listed); each returns its exit code; failures print why. Returns true if
/// all exited 0.
bool forkRanks(const std::vector<int> &ranks,
               const std::function<int(int)> &body) {
  std::vector<pid_t> pids;
  std::fflush(nullptr);
  for (int r : ranks) {
    pid_t pid = fork();
    if (pid == 0)
      _exit(body(r));
    pids.push_back(pid);
  }
  bool ok = true;
  for (size_t i = 0; i < pids.size(); ++i) {
    int status = 0;
    waitpid(pids[i], &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "  rank %d ended with status %d\n", ranks[i],
                   status);
      ok = false;
    }
  }
  return ok;
}

#define CHILD_CHECK(cond, ...)                                                 \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "  rank %d: %s:%d: %s: ", rank, __FILE__, __LINE__, \
                   #cond);                                                     \
      std::fprintf(stderr, __VA_ARGS__);                                       \
      std::fprintf(stderr, "\n");                                              \
      return 1;                                                                \
    }                                                                          \
  } while (0)

MasterAddress addressFor(int rank, int port, int listener, double timeout) {
  MasterAddress a;
  a.host = "127.0.0.1";
  a.port = port;
  a.listenFd = rank == 0 ? listener : -1;
  a.timeoutSeconds = timeout;
  return a;
}

std::vector<int> allRanks(int n) {
  std::vector<int> v;
  for (int r = 0; r < n; ++r)
    v.push_back(r);
  return v;
}

void testExchange(int n, bool inherited) {
  tp::test::context() =
      "exchange n=" + std::to_string(n) + (inherited ? " inherited" : " port");
  int port = 0;
  int listener = inherited ? ephemeralListener(port) : -1;
  if (!inherited)
    port = unusedPort();
  bool ok = forkRanks(allRanks(n), [&](int rank) {
    Rendezvous r;
    std::vector<unsigned char> id =
        rank == 0 ? testId() : std::vector<unsigned char>();
    std::string error;
    if (rank != 0 && listener >= 0)
      close(listener);
    CHILD_CHECK(
        r.exchange(rank, n, addressFor(rank, port, listener, 10), id, error),
        "%s", error.c_str());
    CHILD_CHECK(id == testId(), "wrong id");
    CHILD_CHECK(r.connectedPeers() == (n == 1      ? 0
                                       : rank == 0 ? n - 1
                                                   : 1),
                "%d peers", r.connectedPeers());
    // Nothing happens while everyone is alive; goodbyes are not deaths.
    PeerEvent e = waitForEvent(r, 0.3);
    CHILD_CHECK(e.kind == PeerEvent::None, "event %d from %d", int(e.kind),
                e.peer);
    r.goodbye();
    return 0;
  });
  if (listener >= 0)
    close(listener);
  TP_CHECK(ok);
  tp::test::context().clear();
}

void testMissingPeer() {
  tp::test::context() = "missing peer";
  int port = 0;
  int listener = ephemeralListener(port);
  auto start = Clock::now();
  bool ok = forkRanks({0, 1}, [&](int rank) {
    Rendezvous r;
    std::vector<unsigned char> id = testId();
    std::string error;
    bool done =
        r.exchange(rank, 3, addressFor(rank, port, listener, 1), id, error);
    CHILD_CHECK(!done, "exchange succeeded without rank 2");
    if (rank == 0) {
      CHILD_CHECK(r.timedOut(), "not a timeout");
      CHILD_CHECK(error.find("timed out after 1 s waiting for rank 2 (of 3) "
                             "to connect to 127.0.0.1:") != std::string::npos,
                  "%s", error.c_str());
    } else {
      CHILD_CHECK(error.find("rendezvous failed on rank 0: timed out after "
                             "1 s waiting for rank 2") != std::string::npos,
                  "%s", error.c_str());
    }
    return 0;
  });
  close(listener);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  TP_CHECK(ok);
  TP_CHECK_MSG(seconds < 5, std::to_string(seconds) + " s");
  tp::test::context().clear();
}

void testMissingRankZero() {
  tp::test::context() = "missing rank 0";
  int port = unusedPort();
  bool ok = forkRanks({1}, [&](int rank) {
    Rendezvous r;
    std::vector<unsigned char> id;
    std::string error;
    CHILD_CHECK(!r.exchange(rank, 2, addressFor(rank, port, -1, 1), id, error),
                "exchange succeeded without rank 0");
    CHILD_CHECK(r.timedOut(), "not a timeout");
    CHILD_CHECK(error.find("could not connect to rank 0 at 127.0.0.1:" +
                           std::to_string(port) + " within 1 s") !=
                    std::string::npos,
                "%s", error.c_str());
    return 0;
  });
  TP_CHECK(ok);
  tp::test::context().clear();
}

void testWrongSize() {
  tp::test::context() = "wrong size";
  int port = 0;
  int listener = ephemeralListener(port);
  bool ok = forkRanks({0, 1}, [&](int rank) {
    Rendezvous r;
    std::vector<unsigned char> id = testId();
    std::string error;
    int size = rank == 0 ? 2 : 3;
    CHILD_CHECK(
        !r.exchange(rank, size, addressFor(rank, port, listener, 5), id, error),
        "exchange succeeded");
    CHILD_CHECK(error.find("rank 1 thinks the job has 3 ranks, rank 0 thinks "
                           "2") != std::string::npos,
                "%s", error.c_str());
    return 0;
  });
  close(listener);
  TP_CHECK(ok);
  tp::test::context().clear();
}

/// After the exchange, rank `dead` exits without a goodbye. Rank 0 (if
/// alive) must see it and tell the others; if rank 0 died, the others see
/// that.
void testDeadPeer(int n, int dead) {
  tp::test::context() =
      "dead peer " + std::to_string(dead) + " of " + std::to_string(n);
  int port = 0;
  int listener = ephemeralListener(port);
  auto start = Clock::now();
  bool ok = forkRanks(allRanks(n), [&](int rank) {
    Rendezvous r;
    std::vector<unsigned char> id = testId();
    std::string error;
    CHILD_CHECK(
        r.exchange(rank, n, addressFor(rank, port, listener, 10), id, error),
        "%s", error.c_str());
    if (rank == dead)
      _exit(0); // a crash: no goodbye
    PeerEvent e = waitForEvent(r, 5);
    if (rank == 0) {
      CHILD_CHECK(e.kind == PeerEvent::PeerLost && e.peer == dead,
                  "rank 0 got event %d from %d", int(e.kind), e.peer);
      // What the backend does next: tell everyone and go.
      r.announceAbort(0, 7, "rank " + std::to_string(dead) + " died");
      return 0;
    }
    if (dead == 0) {
      CHILD_CHECK(e.kind == PeerEvent::PeerLost && e.peer == 0,
                  "event %d from %d", int(e.kind), e.peer);
      return 0;
    }
    CHILD_CHECK(e.kind == PeerEvent::PeerAborted && e.peer == 0 &&
                    e.exitCode == 7 &&
                    e.message == "rank " + std::to_string(dead) + " died",
                "event %d from %d code %d '%s'", int(e.kind), e.peer,
                e.exitCode, e.message.c_str());
    return 0;
  });
  close(listener);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  TP_CHECK(ok);
  TP_CHECK_MSG(seconds < 5, std::to_string(seconds) + " s");
  tp::test::context().clear();
}

/// Rank 1 announces an abort; rank 0 sees it and forwards it to rank 2.
void testForwardedAbort() {
  tp::test::context() = "forwarded abort";
  int port = 0;
  int listener = ephemeralListener(port);
  bool ok = forkRanks(allRanks(3), [&](int rank) {
    Rendezvous r;
    std::vector<unsigned char> id = testId();
    std::string error;
    CHILD_CHECK(
        r.exchange(rank, 3, addressFor(rank, port, listener, 10), id, error),
        "%s", error.c_str());
    if (rank == 1) {
      r.announceAbort(1, 5, "boom");
      _exit(0);
    }
    PeerEvent e = waitForEvent(r, 5);
    CHILD_CHECK(e.kind == PeerEvent::PeerAborted && e.peer == 1 &&
                    e.exitCode == 5 && e.message == "boom",
                "event %d from %d code %d '%s'", int(e.kind), e.peer,
                e.exitCode, e.message.c_str());
    return 0;
  });
  close(listener);
  TP_CHECK(ok);
  tp::test::context().clear();
}

//===----------------------------------------------------------------------===//
// Rendezvous trust: secrets, strangers, idle peers, forged aborts
//===----------------------------------------------------------------------===//

void testWire() {
  tp::test::context() = "wire";
  using namespace tp::boot::wire;
  std::string frame = encode(Hello, 3, 4, "key", 3);
  TP_CHECK(frame.size() == headerSize + 3);
  Decoder d;
  size_t used = 0;
  for (size_t i = 0; i + 1 < frame.size(); ++i)
    TP_CHECK(d.feed(&frame[i], 1, used) == Decoder::NeedMore && used == 1);
  TP_CHECK(d.feed(&frame.back(), 1, used) == Decoder::Done);
  TP_CHECK(d.message().type == Hello && d.message().a == 3 &&
           d.message().b == 4 && d.message().body == "key");
  // Two messages at once: the decoder stops at the first one's end.
  std::string two = frame + encode(Bye, 1, 0, nullptr, 0);
  Decoder e;
  TP_CHECK(e.feed(two.data(), two.size(), used) == Decoder::Done &&
           used == frame.size());
  e.reset();
  TP_CHECK(e.feed(two.data() + used, two.size() - used, used) ==
               Decoder::Done &&
           e.message().type == Bye);
  std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  Decoder f;
  TP_CHECK(f.feed(http.data(), http.size(), used) == Decoder::Garbage);
  std::string huge = encode(Hello, 1, 2, nullptr, 0);
  huge[19] = 0x7f; // length 127 bytes, over a limit of 16
  Decoder g(16);
  TP_CHECK(g.feed(huge.data(), huge.size(), used) == Decoder::Garbage);
  TP_CHECK(sameSecret("abc", "abc") && !sameSecret("abc", "abd") &&
           !sameSecret("abc", "ab") && sameSecret("", ""));
  tp::test::context().clear();
}

/// A client socket connected to 127.0.0.1:port (blocking), or -1.
int connectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(port));
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0)
    return -1;
  return fd;
}

/// Strangers reach the port before the ranks: three that say nothing, one
/// that speaks HTTP, one that claims to be rank 1 without the secret, one
/// with the wrong job size and no secret. The job still forms, quickly (an
/// idle connection used to hold the accept loop for 10 s each, and the
/// first hello for rank 1 took the rank), and no stranger gets the id.
void testStrangers() {
  tp::test::context() = "strangers";
  int port = 0;
  int listener = ephemeralListener(port);
  const std::string secret = "9f86d081884c7d659a2feaa0c55ad015";
  std::vector<int> strangers;
  for (int i = 0; i < 3; ++i)
    strangers.push_back(connectTo(port));
  strangers.push_back(connectTo(port));
  const char http[] = "GET / HTTP/1.0\r\n\r\n";
  TP_CHECK(send(strangers.back(), http, sizeof(http) - 1, 0) > 0);
  strangers.push_back(connectTo(port));
  std::string forged = wire::encode(wire::Hello, 1, 3, "guess", 5);
  TP_CHECK(send(strangers.back(), forged.data(), forged.size(), 0) > 0);
  strangers.push_back(connectTo(port));
  std::string wrongSize = wire::encode(wire::Hello, 2, 7, nullptr, 0);
  TP_CHECK(send(strangers.back(), wrongSize.data(), wrongSize.size(), 0) > 0);
  for (int fd : strangers)
    TP_CHECK(fd >= 0);
  auto start = Clock::now();
  bool ok = forkRanks(allRanks(3), [&](int rank) {
    Rendezvous r;
    std::vector<unsigned char> id =
        rank == 0 ? testId() : std::vector<unsigned char>();
    std::string error;
    MasterAddress a = addressFor(rank, port, listener, 8);
    a.secret = secret;
    CHILD_CHECK(r.exchange(rank, 3, a, id, error), "%s", error.c_str());
    CHILD_CHECK(id == testId(), "wrong id");
    CHILD_CHECK(r.connectedPeers() == (rank == 0 ? 2 : 1), "%d peers",
                r.connectedPeers());
    r.goodbye();
    return 0;
  });
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  TP_CHECK(ok);
  TP_CHECK_MSG(seconds < 4, std::to_string(seconds) + " s");
  // Rank 0 closed every stranger's connection without a word.
  for (int fd : strangers) {
    pollfd pfd{fd, POLLIN, 0};
    TP_CHECK(poll(&pfd, 1, 2000) == 1);
    char byte;
    TP_CHECK_MSG(recv(fd, &byte, 1, 0) <= 0, "a stranger got data");
    close(fd);
  }
  close(listener);
  tp::test::context().clear();
}

/// Reads one whole message from `fd` within `seconds`; false on a timeout,
/// a close or garbage.
bool readOneMessage(int fd, double seconds, wire::Message &message) {
  wire::Decoder decoder;
  auto end = Clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(
                       end - Clock::now())
                       .count());
    pollfd pfd{fd, POLLIN, 0};
    if (left <= 0 || poll(&pfd, 1, left) != 1)
      return false;
    char byte;
    if (recv(fd, &byte, 1, 0) != 1)
      return false;
    size_t used = 0;
    wire::Decoder::Status status = decoder.feed(&byte, 1, used);
    if (status == wire::Decoder::Garbage)
      return false;
    if (status == wire::Decoder::Done) {
      message = decoder.message();
      return true;
    }
  }
}

/// Rank 0 holds two connections that have not said hello yet; the first
/// says it, then the second. Both are ranks of the job and both get the id.
/// (Rank 0 used to read the first hello's rank after taking it out of its
/// list of waiting connections, so it read the second one's unfinished
/// hello instead, registered rank 0, and timed out waiting for rank 1: the
/// runtime.bootstrap flake.)
void testHelloWhileAnotherWaits() {
  tp::test::context() = "hello while another waits";
  int port = 0;
  int listener = ephemeralListener(port);
  std::fflush(nullptr);
  pid_t rankZero = fork();
  if (rankZero == 0)
    _exit([&] {
      const int rank = 0;
      Rendezvous r;
      std::vector<unsigned char> id = testId();
      std::string error;
      CHILD_CHECK(
          r.exchange(rank, 3, addressFor(rank, port, listener, 5), id, error),
          "%s", error.c_str());
      r.goodbye();
      return 0;
    }());
  int first = connectTo(port), second = connectTo(port);
  TP_CHECK(first >= 0 && second >= 0);
  // Long enough for rank 0 to accept both before either speaks.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string hello1 = wire::encode(wire::Hello, 1, 3, nullptr, 0);
  TP_CHECK(send(first, hello1.data(), hello1.size(), 0) > 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::string hello2 = wire::encode(wire::Hello, 2, 3, nullptr, 0);
  TP_CHECK(send(second, hello2.data(), hello2.size(), 0) > 0);
  const std::vector<unsigned char> id = testId();
  const std::string expected(id.begin(), id.end());
  for (int fd : {first, second}) {
    wire::Message message;
    TP_CHECK(readOneMessage(fd, 8, message));
    TP_CHECK_MSG(message.type == wire::Payload && message.body == expected,
                 "message type " + std::to_string(message.type) + ": " +
                     message.body);
    close(fd);
  }
  int status = 0;
  waitpid(rankZero, &status, 0);
  TP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(listener);
  tp::test::context().clear();
}

/// A rank with another secret is not let in: rank 0 times out and says why.
void testWrongSecret() {
  tp::test::context() = "wrong secret";
  int port = 0;
  int listener = ephemeralListener(port);
  bool ok = forkRanks({0, 1}, [&](int rank) {
    Rendezvous r;
    std::vector<unsigned char> id = testId();
    std::string error;
    MasterAddress a = addressFor(rank, port, listener, 1);
    a.secret = rank == 0 ? "right" : "wrong";
    CHILD_CHECK(!r.exchange(rank, 2, a, id, error), "exchange succeeded");
    if (rank == 0)
      CHILD_CHECK(error.find("1 connection(s) without a valid hello were "
                             "dropped: is TP_RENDEZVOUS_SECRET the same") !=
                      std::string::npos,
                  "%s", error.c_str());
    else
      CHILD_CHECK(error.find("has another TP_RENDEZVOUS_SECRET") !=
                      std::string::npos,
                  "%s", error.c_str());
    return 0;
  });
  close(listener);
  TP_CHECK(ok);
  tp::test::context().clear();
}

/// A TP_MASTER_ADDR that is not this machine's is an error, not a silent
/// listen on every interface.
void testBindOnlyWhereAsked() {
  tp::test::context() = "bind";
  Rendezvous r;
  MasterAddress a;
  a.host = "192.0.2.1"; // TEST-NET-1, never local
  a.port = unusedPort();
  a.timeoutSeconds = 2;
  std::vector<unsigned char> id = testId();
  std::string error;
  auto start = Clock::now();
  TP_CHECK(!r.exchange(0, 2, a, id, error));
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  TP_CHECK_CONTAINS(error, "cannot listen on 192.0.2.1:");
  TP_CHECK_CONTAINS(error, "TP_MASTER_ADDR must name an address of rank 0's "
                           "own machine");
  TP_CHECK_MSG(seconds < 1, std::to_string(seconds) + " s");
  tp::test::context().clear();
}

/// Rank 1 announces an abort in rank 2's name with exit code 256: rank 0
/// and rank 2 learn that rank 1 aborted, with a code that is not success.
void testForgedAbort() {
  tp::test::context() = "forged abort";
  int port = 0;
  int listener = ephemeralListener(port);
  bool ok = forkRanks(allRanks(3), [&](int rank) {
    Rendezvous r;
    std::vector<unsigned char> id = testId();
    std::string error;
    CHILD_CHECK(
        r.exchange(rank, 3, addressFor(rank, port, listener, 10), id, error),
        "%s", error.c_str());
    if (rank == 1) {
      r.announceAbort(2, 256, "forged");
      _exit(0);
    }
    PeerEvent e = waitForEvent(r, 5);
    CHILD_CHECK(e.kind == PeerEvent::PeerAborted && e.peer == 1 &&
                    e.exitCode == 1 && e.message == "forged",
                "event %d from %d code %d '%s'", int(e.kind), e.peer,
                e.exitCode, e.message.c_str());
    return 0;
  });
  close(listener);
  TP_CHECK(ok);
  tp::test::context().clear();
}

//===----------------------------------------------------------------------===//
// spawnRanks (re-executes this test with --child MODE)
//===----------------------------------------------------------------------===//

int childMain(const std::string &mode) {
  GetEnv env = processEnvironment();
  Placement p;
  MasterAddress a;
  std::string error;
  int rank = -1;
  if (!detectPlacement(env, p, error) || !masterAddress(env, p, a, error)) {
    std::fprintf(stderr, "child: %s\n", error.c_str());
    return 1;
  }
  rank = p.rank;
  if (mode == "exchange") {
    Rendezvous r;
    std::vector<unsigned char> id =
        rank == 0 ? testId() : std::vector<unsigned char>();
    a.timeoutSeconds = 10;
    CHILD_CHECK(r.exchange(p.rank, p.size, a, id, error), "%s", error.c_str());
    CHILD_CHECK(id == testId(), "wrong id");
    CHILD_CHECK(p.localRank == p.rank, "local rank %d", p.localRank);
    r.goodbye();
    return 0;
  }
  if (mode == "fail") { // rank 1 fails, rank 0 would hang
    if (rank == 1)
      return 3;
    if (rank == 0)
      sleep(30);
    return 0;
  }
  return 1;
}

void testSpawn(const char *self) {
  tp::test::context() = "spawnRanks";
  SpawnConfig config;
  config.executable = self;
  config.arguments = {self, "--child", "exchange"};
  config.ranks = 3;
  config.name = "bootstrap-test";
  std::string error;
  std::vector<RankExit> exits;
  int code = spawnRanks(config, error, &exits);
  TP_CHECK_MSG(code == 0, error + " code " + std::to_string(code));
  TP_CHECK(exits.size() == 3);

  config.arguments = {self, "--child", "fail"};
  config.graceSeconds = 1;
  auto start = Clock::now();
  code = spawnRanks(config, error, &exits);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  TP_CHECK_MSG(code == 3, "code " + std::to_string(code));
  TP_CHECK_MSG(seconds < 10, std::to_string(seconds) + " s");
  bool killedRankZero = false;
  for (const RankExit &e : exits)
    killedRankZero |= e.rank == 0 && e.killedByUs && e.signaled;
  TP_CHECK(killedRankZero);

  config.arguments = {self, "--child", "fail"};
  config.graceSeconds = 60;
  config.backstopSeconds = 1; // rank 0 hangs past it
  code = spawnRanks(config, error, &exits);
  TP_CHECK_MSG(code == 3, "code " + std::to_string(code));
  tp::test::context().clear();
}

} // namespace

int main(int argc, char **argv) {
  if (argc == 3 && std::string(argv[1]) == "--child")
    return childMain(argv[2]);
  testPlacement();
  testDeviceChoice();
  testMasterAddress();
  testRankEnvironment();
  testExitCode();
  for (int n = 1; n <= 4; ++n) {
    testExchange(n, true);
    testExchange(n, false);
  }
  testMissingPeer();
  testMissingRankZero();
  testWrongSize();
  testDeadPeer(4, 2);
  testDeadPeer(2, 1);
  testDeadPeer(3, 0);
  testForwardedAbort();
  testWire();
  testStrangers();
  testHelloWhileAnotherWaits();
  testWrongSecret();
  testBindOnlyWhereAsked();
  testForgedAbort();
  testSpawn(argv[0]);
  return tp::test::testResult("tp_bootstrap_test");
}
