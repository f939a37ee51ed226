//===- Rendezvous.h - TCP id exchange and liveness channel ------*- C++ -*-===//
//
// NCCL needs the unique id that rank 0 creates on every rank before
// ncclCommInitRank. Rank 0 listens on TP_MASTER_ADDR:TP_MASTER_PORT (that
// address only, never all interfaces unless asked; or on a socket inherited
// from tp-launch --spawn); every other rank connects (with retries until the
// timeout), says hello with the job's secret (TP_RENDEZVOUS_SECRET), and
// receives the id once ALL ranks have connected, so that a missing rank fails
// everyone with a message instead of a hang inside NCCL. Rank 0 reads all new
// connections at once: one that sends garbage, the wrong secret, or nothing
// within 10 s is dropped without holding up or failing the job.
//
// The connections then stay open as a liveness channel (a star around rank
// 0): a connection that closes without a goodbye is a dead peer. Rank 0
// forwards an abort announced by one rank to all others. The backend polls
// the channel from its watchdog thread (see NCCLBackend.cpp).
//
// Wire format: Bootstrap/Wire.h. IPv4.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_BOOTSTRAP_RENDEZVOUS_H
#define TP_RUNTIME_BOOTSTRAP_RENDEZVOUS_H

#include "Bootstrap/Environment.h"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace tp::boot {

/// Something the liveness channel reported.
struct PeerEvent {
  enum Kind {
    None,       ///< nothing happened within the poll's timeout
    PeerLost,   ///< `peer` closed its connection without a goodbye
    PeerAborted ///< rank `peer` announced an abort (exitCode, message)
  };
  Kind kind = None;
  int peer = -1;
  int exitCode = 0;
  std::string message;
};

class WaitingRoom;

class Rendezvous {
public:
  Rendezvous() = default;
  Rendezvous(const Rendezvous &) = delete;
  Rendezvous &operator=(const Rendezvous &) = delete;
  /// Closes the channel without a goodbye (peers see this rank as lost).
  ~Rendezvous();

  /// Rank 0 sends `payload` to every other rank once all of them have
  /// connected; any other rank receives it into `payload`. Size 1 does
  /// nothing. On failure `error` says what happened and which ranks were
  /// missing; rank 0 also tells the connected ranks why.
  bool exchange(int rank, int size, const MasterAddress &address,
                std::vector<unsigned char> &payload, std::string &error);

  /// Waits up to `timeoutMs` for an event on the liveness channel. Goodbyes
  /// are consumed silently. Rank 0 forwards an abort to the other ranks
  /// before returning it, with the sender's own rank as its origin (not the
  /// one the message claims). Exit codes never read as success (see
  /// Common/ExitCode.h). One thread polls at a time.
  PeerEvent poll(int timeoutMs);

  /// Tells the peers that rank `origin` is aborting (rank 0: every peer;
  /// others: rank 0, which forwards it). Does not block; safe from any
  /// thread and concurrently with poll().
  void announceAbort(int origin, int exitCode, const std::string &message);

  /// Tells the peers that this rank finished normally, then closes.
  void goodbye();

  /// Number of peers still connected (for tests and messages).
  int connectedPeers();

  /// Whether the last exchange() failed because its timeout elapsed.
  bool timedOut() const { return lastTimedOut; }

private:
  int rank = 0;
  int size = 1;
  std::mutex mutex; // guards fds and sends
  /// Rank 0: fds[r] is rank r's connection (fds[0] unused); other ranks:
  /// fds[0] is the connection to rank 0. -1 once closed.
  std::vector<int> fds;
  bool lastTimedOut = false;

  using TimePoint = std::chrono::steady_clock::time_point;

  void closeLocked(int index);

  // The steps of exchange(). Any rank but 0: connect (retrying until rank 0
  // listens), say hello, wait for the id.
  bool fetchId(const MasterAddress &address, TimePoint deadline,
               const std::string &timeoutText,
               std::vector<unsigned char> &payload, std::string &error);
  // Rank 0: open the listener, admit every rank, then send the id to all
  // of them, or tell the admitted ones why the job cannot start.
  bool serveId(const MasterAddress &address, TimePoint deadline,
               const std::string &timeoutText,
               const std::vector<unsigned char> &payload, std::string &error);
  /// Admits connections until every rank has said a valid hello; returns
  /// why not ("" when all are in).
  std::string admitRanks(WaitingRoom &room, const MasterAddress &address,
                         TimePoint deadline, const std::string &timeoutText);
  std::string timeoutProblem(const std::set<int> &missing, int dropped,
                             const MasterAddress &address,
                             const std::string &timeoutText);
  /// Tells every admitted rank `problem` and closes its connection.
  void failAll(const std::string &problem);
  bool sendToAll(const std::vector<unsigned char> &payload, std::string &error);
};

} // namespace tp::boot

#endif // TP_RUNTIME_BOOTSTRAP_RENDEZVOUS_H
