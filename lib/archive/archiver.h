// Archiver: one archiving term on the primary. It reads the primary's own
// binlog as a replica would (a GTID dump over the local socket, as root: the
// semi-sync count of replicas leaves root's dumps out, and it acknowledges
// nothing), keeps whole transactions in a spool file, and ships them to the
// store as tail segments so that the archive trails the primary by at most
// BINLOG_ARCHIVE_RPO; at BINLOG_ARCHIVE_SEAL_MB or _SEAL_INTERVAL the spool
// becomes one sealed segment and the tails it covers are deleted, so that a
// week of archive is a few hundred objects to list.
//
// Locks and what each step leaves behind (K = BINLOG_ARCHIVE_KEY):
//  1. Start of a term: read K and K/head, list the store, find the attach
//     point (archive/attach.h), then in one Consul transaction: PRIMARY_KEY
//     is still held by this node's session, K is still at the index read
//     (check-and-set), K := the next epoch, K/head := the attach point.
//     Another primary's archiver racing for the epoch loses the check-and-set.
//     Then a marker segment: from here on the store alone shows that this
//     epoch supersedes whatever an older one archived past the attach point.
//     Dying before the marker: the epoch is taken but unmarked; the next term
//     takes the next one. Nothing is lost.
//  2. Streaming: events go to the spool; nothing is visible yet. Dying here
//     loses only the spool: the next term re-reads those events from the
//     binlog (kept BINLOG_EXPIRE / binlog_expire_logs_seconds, 7 days).
//  3. A tail: the object is uploaded (invisible until committed), then
//     published: a transaction checks that this node's session still holds
//     PRIMARY_KEY and K is still this epoch's, and moves K/head. A failed
//     check (demoted, or a newer epoch) deletes the object and ends the term.
//     Dying between the commit and the transaction leaves a committed,
//     unpublished tail: the next epoch attaches at the published head and
//     supersedes it (its transactions are the same ones, or errant ones).
//  4. A seal: uploaded, then the tails it covers are deleted. Dying between
//     leaves both: the chain prefers the seal; retention deletes the rest.
//  5. SIGTERM (the container stops): the complete transactions not yet
//     shipped are shipped, then it exits.
// Meanwhile other nodes only see K and K/head move; a restore, from the store
// alone, sees segments appear. The archiver never touches mysqld's state,
// the primary's session or any health check: it can fail, lag or die without
// a health check noticing.
//
// Not thread-safe; `stop` may be raised from a signal handler.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "archive/attach.h"
#include "archive/chain.h"
#include "archive/events.h"
#include "archive/spool.h"
#include "archive/transaction_log.h"
#include "backup/pipeline.h"
#include "consul/consul.h"
#include "core/log.h"
#include "mysql/binlog_stream.h"
#include "storage/object_store.h"
#include "sys/clock.h"

namespace manage::archive {

struct ArchiverSettings {
  std::string node;         // this node's name (Consul)
  std::string primary_key;  // PRIMARY_KEY
  std::string archive_key;  // BINLOG_ARCHIVE_KEY
  std::chrono::milliseconds rpo{std::chrono::seconds(10)};
  uint64_t seal_bytes = 64ull << 20;
  std::chrono::seconds seal_age{3600};
  backup::Encoding encoding;
  const backup::BackupKey* key = nullptr;  // to read segments back (fork search)
  // The local server: its connection and this archiver's dump server ids.
  mysql::BinlogDumpOptions dump;
  uint32_t probe_server_id = 0;
  // How often a term looks for gaps in the archive (then tells on_gap).
  std::chrono::seconds gap_check{600};
};

struct ArchiverEnv {
  consul::Consul* consul = nullptr;
  storage::ObjectStore* store = nullptr;
  mysql::BinlogDumper* dumper = nullptr;
  sys::Clock* clock = nullptr;
  Logger log = Logger(nullptr, LogLevel::kError, false);
  // A fresh spool for a term (archive/spool.h).
  std::function<Result<std::unique_ptr<Spool>>()> new_spool;
  // The local server's oldest binlog position (mysql::OldestBinlogState) and
  // its gtid_domain_id.
  std::function<Result<std::string>()> oldest_state;
  std::function<Result<uint32_t>()> domain_id;
  // Told when a term starts with a gap (a fill may close it from another node).
  std::function<void(const MariaDbGtid& after, const MariaDbGtid& before)> on_gap;
  const std::atomic<bool>* stop = nullptr;
};

// What one term did, for its log line and the benchmark.
struct TermStats {
  uint64_t epoch = 0;
  uint64_t tails = 0, seals = 0, transactions = 0, bytes = 0;
  std::chrono::milliseconds max_lag{0};  // longest a transaction waited to be published
};

class Archiver {
 public:
  Archiver(ArchiverSettings settings, ArchiverEnv env)
      : s_(std::move(settings)), env_(std::move(env)) {}

  // Runs one term while `primary_session` holds PRIMARY_KEY. Returns OK
  // after `stop` was raised and what was complete got shipped; Aborted when
  // this node is no longer the primary (or a newer epoch began); any other
  // error (server, store, Consul) ends the term: the caller starts a new one
  // after a pause.
  Status RunTerm(const std::string& primary_session);
  const TermStats& stats() const { return stats_; }

 private:
  Status StartEpoch();
  Status Stream();
  Status OnEvent(std::string_view event);
  bool TailDue() const;
  Status ShipTail();
  Status Publish(const SegmentInfo& segment);
  Status MaybeSeal(bool now);
  void CheckGaps();

  ArchiverSettings s_;
  ArchiverEnv env_;
  TermStats stats_;
  std::string session_;
  uint64_t epoch_index_ = 0;  // K's ModifyIndex once this epoch took it
  MariaDbGtid head_;          // the last published GTID
  std::unique_ptr<TransactionLog> log_;
  Batch tail_;  // complete, not yet shipped
  Batch seal_;  // shipped as tails, not yet sealed
  MariaDbGtid seal_prev_;
  std::optional<std::chrono::steady_clock::time_point> seal_started_;
  std::vector<std::string> sealed_tails_;  // names of the tails seal_ covers
  std::chrono::milliseconds last_upload_{0};
  std::chrono::steady_clock::time_point last_gap_check_;
};

}  // namespace manage::archive
