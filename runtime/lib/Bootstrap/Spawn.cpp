//===- Spawn.cpp - Start N ranks of a program on this node ----------------===//

#include "Bootstrap/Spawn.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace tp::boot {

std::vector<std::string> rankEnvironment(const std::vector<std::string> &base,
                                         int rank, int size, int port,
                                         int listenFd,
                                         const std::string &secret) {
  static const char *const replaced[] = {"TP_RANK=",
                                         "TP_WORLD_SIZE=",
                                         "TP_LOCAL_RANK=",
                                         "TP_MASTER_ADDR=",
                                         "TP_MASTER_PORT=",
                                         "TP_RENDEZVOUS_FD=",
                                         "TP_RENDEZVOUS_SECRET="};
  std::vector<std::string> env;
  for (const std::string &entry : base) {
    bool drop = false;
    for (const char *prefix : replaced)
      drop |= entry.rfind(prefix, 0) == 0;
    if (!drop)
      env.push_back(entry);
  }
  env.push_back("TP_RANK=" + std::to_string(rank));
  env.push_back("TP_WORLD_SIZE=" + std::to_string(size));
  env.push_back("TP_LOCAL_RANK=" + std::to_string(rank));
  env.push_back("TP_MASTER_ADDR=127.0.0.1");
  env.push_back("TP_MASTER_PORT=" + std::to_string(port));
  if (rank == 0 && listenFd >= 0)
    env.push_back("TP_RENDEZVOUS_FD=" + std::to_string(listenFd));
  if (!secret.empty())
    env.push_back("TP_RENDEZVOUS_SECRET=" + secret);
  return env;
}

std::string newJobSecret(std::string &error) {
  unsigned char bytes[16];
  size_t have = 0;
  while (have < sizeof(bytes)) {
    ssize_t n = getrandom(bytes + have, sizeof(bytes) - have, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = std::string("getrandom: ") + std::strerror(errno);
      return "";
    }
    have += size_t(n);
  }
  static const char digits[] = "0123456789abcdef";
  std::string text;
  for (unsigned char b : bytes) {
    text += digits[b >> 4];
    text += digits[b & 15];
  }
  return text;
}

int overallExitCode(const std::vector<RankExit> &exits) {
  for (const RankExit &e : exits)
    if (!e.killedByUs && (e.signaled || e.code != 0))
      return e.code == 0 ? 1 : e.code;
  for (const RankExit &e : exits)
    if (e.signaled || e.code != 0)
      return e.code == 0 ? 1 : e.code;
  return 0;
}

namespace {

volatile sig_atomic_t terminateRequested = 0;

void onTerminate(int) { terminateRequested = 1; }

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void say(const std::string &name, const std::string &text) {
  std::string line = name + ": " + text + "\n";
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

/// The rendezvous socket on an ephemeral port of 127.0.0.1: rank 0
/// inherits it, so the port is ours before any child starts. -1 with
/// `error`.
int openRendezvousSocket(int ranks, int &port, std::string &error) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(listener, reinterpret_cast<sockaddr *>(&address),
             sizeof(address)) != 0 ||
      ::listen(listener, ranks + 8) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) !=
          0) {
    error = std::string("cannot open the rendezvous socket on 127.0.0.1: ") +
            std::strerror(errno);
    ::close(listener);
    return -1;
  }
  port = ntohs(address.sin_port);
  return listener;
}

/// SIGTERM / SIGINT set terminateRequested while the ranks run (they are
/// forwarded to the ranks); the previous handlers come back at the end.
class TerminationWatch {
public:
  TerminationWatch() {
    struct sigaction action {};
    action.sa_handler = onTerminate;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, &savedTerm);
    sigaction(SIGINT, &action, &savedInt);
    terminateRequested = 0;
  }
  ~TerminationWatch() {
    sigaction(SIGTERM, &savedTerm, nullptr);
    sigaction(SIGINT, &savedInt, nullptr);
  }
  TerminationWatch(const TerminationWatch &) = delete;
  TerminationWatch &operator=(const TerminationWatch &) = delete;

private:
  struct sigaction savedTerm {
  }, savedInt{};
};

/// Every rank's environment, as execve wants it. Built before fork (only
/// async-signal-safe calls happen between fork and exec).
struct RankEnvironments {
  std::vector<std::vector<std::string>> strings;
  std::vector<std::vector<char *>> pointers;

  RankEnvironments(int ranks, int port, int listener, const std::string &secret)
      : strings(size_t(ranks)), pointers(size_t(ranks)) {
    std::vector<std::string> base;
    for (char **e = environ; *e; ++e)
      base.push_back(*e);
    for (int r = 0; r < ranks; ++r) {
      strings[r] = rankEnvironment(base, r, ranks, port, listener, secret);
      for (std::string &s : strings[r])
        pointers[r].push_back(s.data());
      pointers[r].push_back(nullptr);
    }
  }
};

/// In the child of rank `r`: exec the rank program (rank 0 keeps the
/// listener across exec). Never returns.
[[noreturn]] void execRank(const SpawnConfig &config, int r, int listener,
                           std::vector<char *> &argv,
                           std::vector<char *> &envp) {
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  if (r == 0) {
    int flags = fcntl(listener, F_GETFD);
    fcntl(listener, F_SETFD, flags & ~FD_CLOEXEC);
  }
  execve(config.executable.c_str(), argv.data(), envp.data());
  const char text[] = ": cannot execute the rank program\n";
  ssize_t ignored =
      write(STDERR_FILENO, config.name.data(), config.name.size());
  ignored = write(STDERR_FILENO, text, sizeof(text) - 1);
  (void)ignored;
  _exit(127);
}

/// Forks and execs every rank into `pids`; on a failed fork kills and
/// reaps those already started and returns false with `error`.
bool startRanks(const SpawnConfig &config, int listener, RankEnvironments &envs,
                std::vector<pid_t> &pids, std::string &error) {
  std::vector<char *> argv;
  for (const std::string &a : config.arguments)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  pids.assign(size_t(config.ranks), -1);
  std::fflush(nullptr);
  for (int r = 0; r < config.ranks; ++r) {
    pid_t pid = fork();
    if (pid < 0) {
      error = std::string("fork: ") + std::strerror(errno);
      for (pid_t p : pids)
        if (p > 0)
          kill(p, SIGKILL);
      for (pid_t p : pids)
        if (p > 0)
          waitpid(p, nullptr, 0);
      return false;
    }
    if (pid == 0)
      execRank(config, r, listener, argv, envs.pointers[r]);
    pids[r] = pid;
  }
  return true;
}

/// The parent's watch over the running ranks: reaps them, forwards a
/// termination request, and kills the rest a grace period after the first
/// failure or at the backstop.
class RankWatch {
public:
  RankWatch(const SpawnConfig &config, std::vector<pid_t> pids)
      : config(config), pids(std::move(pids)), running(config.ranks),
        killed(size_t(config.ranks), false) {}

  /// Waits until every rank has ended.
  void run() {
    while (running > 0) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid > 0) {
        reaped(pid, status);
        continue;
      }
      if (pid < 0 && errno != EINTR)
        break;
      if (terminateRequested && !forwardedTerm) {
        forwardedTerm = true;
        killRemaining(SIGTERM);
      }
      enforceGracePeriod();
      enforceBackstop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  const std::vector<RankExit> &exits() const { return ended; }
  bool timedOut() const { return backstopHit; }

private:
  void reaped(pid_t pid, int status) {
    for (int r = 0; r < config.ranks; ++r) {
      if (pids[r] != pid)
        continue;
      pids[r] = -1;
      --running;
      RankExit e;
      e.rank = r;
      e.signaled = WIFSIGNALED(status);
      e.code = e.signaled ? WTERMSIG(status) : WEXITSTATUS(status);
      e.killedByUs = killed[r];
      ended.push_back(e);
      if (e.signaled && !e.killedByUs)
        say(config.name, "rank " + std::to_string(r) + " was killed by " +
                             "signal " + std::to_string(e.code) + " (" +
                             strsignal(e.code) + ")");
      if ((e.signaled || e.code != 0) && !failed) {
        failed = true;
        firstFailure = Clock::now();
      }
    }
  }

  void killRemaining(int sig) {
    for (int r = 0; r < config.ranks; ++r)
      if (pids[r] > 0) {
        kill(pids[r], sig);
        killed[r] = killed[r] || sig == SIGKILL;
      }
  }

  void enforceGracePeriod() {
    if (!failed || killedAll ||
        secondsSince(firstFailure) <= config.graceSeconds)
      return;
    std::string list;
    for (int r = 0; r < config.ranks; ++r)
      if (pids[r] > 0)
        list += (list.empty() ? "" : ", ") + std::to_string(r);
    say(config.name, "rank(s) " + list + " did not end within " +
                         std::to_string(int(config.graceSeconds)) +
                         " s of the first failure; killing them");
    killRemaining(SIGKILL);
    killedAll = true;
  }

  void enforceBackstop() {
    if (config.backstopSeconds <= 0 || killedAll ||
        secondsSince(start) <= config.backstopSeconds)
      return;
    say(config.name, "the ranks did not end within " +
                         std::to_string(int(config.backstopSeconds)) +
                         " s; killing them");
    killRemaining(SIGKILL);
    killedAll = true;
    backstopHit = true;
  }

  const SpawnConfig &config;
  std::vector<pid_t> pids;
  int running;
  std::vector<bool> killed;
  std::vector<RankExit> ended;
  const Clock::time_point start = Clock::now();
  Clock::time_point firstFailure{};
  bool failed = false, killedAll = false, backstopHit = false;
  bool forwardedTerm = false;
};

} // namespace

int spawnRanks(const SpawnConfig &config, std::string &error,
               std::vector<RankExit> *exitsOut) {
  if (config.ranks < 1) {
    error = "--spawn needs at least 1 rank";
    return -1;
  }
  int port = 0;
  const int listener = openRendezvousSocket(config.ranks, port, error);
  if (listener < 0)
    return -1;
  // Only the ranks learn the secret (their environment is readable by this
  // user and root only), so another local user who finds the port cannot
  // join the job or receive its NCCL id.
  const std::string secret = newJobSecret(error);
  if (secret.empty()) {
    ::close(listener);
    return -1;
  }
  RankEnvironments envs(config.ranks, port, listener, secret);
  TerminationWatch termination;
  std::vector<pid_t> pids;
  bool started = startRanks(config, listener, envs, pids, error);
  ::close(listener);
  if (!started)
    return -1;
  RankWatch watch(config, std::move(pids));
  watch.run();
  if (exitsOut)
    *exitsOut = watch.exits();
  int code = overallExitCode(watch.exits());
  if (watch.timedOut() && code == 9)
    code = 124;
  return code;
}

} // namespace tp::boot
