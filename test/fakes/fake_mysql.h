// FakeConnector / FakeConnection: an in-memory MySQL/MariaDB for tests. All
// connections a FakeConnector opens share one FakeMySql, which records every
// statement in order and answers from scripted rules:
//   - an exact-SQL rule beats a prefix rule; the longest prefix wins; among
//     equal keys the rule added last wins;
//   - a rule may be limited to `times` uses, after which it falls away;
//   - an unmatched statement returns an empty result (as SET does), or the
//     status given to SetUnscripted.
// Connecting and running statements are thread-safe (a health pass and its
// fence watchdog connect at once); scripting and inspection are not.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mysql/client.h"
#include "mysql/flavor.h"
#include "mysql/replica_status.h"
#include "mysql/replication_sql.h"

namespace manage::mysql {

class FakeMySql {
 public:
  static constexpr int kForever = -1;

  void Reply(std::string sql, QueryResult result, int times = kForever) {
    rules_.push_back({std::move(sql), false, std::move(result), times});
  }
  void ReplyPrefix(std::string prefix, QueryResult result, int times = kForever) {
    rules_.push_back({std::move(prefix), true, std::move(result), times});
  }
  void Fail(std::string sql, Status status, int times = kForever) {
    rules_.push_back({std::move(sql), false, std::move(status), times});
  }
  void FailPrefix(std::string prefix, Status status, int times = kForever) {
    rules_.push_back({std::move(prefix), true, std::move(status), times});
  }
  // Called with every statement before it is answered (say, to advance a
  // fake clock by what the statement would take).
  std::function<void(std::string_view sql)> on_statement;
  // What an unmatched statement returns; OK (an empty result) by default.
  void SetUnscripted(Status status) { unscripted_ = std::move(status); }

  // The next Connect calls fail with `status`, one per queued failure.
  void FailConnect(Status status, int times = 1) {
    for (int i = 0; i < times; ++i) connect_failures_.push_back(status);
  }
  void set_server_version(std::string version) { version_ = std::move(version); }
  const std::string& server_version() const { return version_; }
  // Every connection open now fails its later statements with Unavailable, as
  // after a server restart. New connections work.
  void DropConnections() { ++generation_; }

  // Every statement run, in order, across all connections.
  const std::vector<std::string>& statements() const { return statements_; }
  void ClearStatements() { statements_.clear(); }
  bool Ran(std::string_view sql) const { return Count(sql, false) > 0; }
  // How many statements equal `sql` (or start with it when `prefix`).
  size_t Count(std::string_view sql, bool prefix = false) const {
    size_t n = 0;
    for (const std::string& s : statements_) {
      if (prefix ? s.starts_with(sql) : s == sql) ++n;
    }
    return n;
  }
  const std::vector<ConnectOptions>& connects() const { return connects_; }
  int open_connections() const { return open_; }

  // Used by FakeConnector and FakeConnection.
  Result<QueryResult> Run(std::string_view sql) {
    if (on_statement) on_statement(sql);
    std::lock_guard<std::mutex> lock(mu_);
    statements_.emplace_back(sql);
    Rule* rule = Match(sql);
    if (rule == nullptr) {
      if (!unscripted_.ok()) return unscripted_;
      return QueryResult{};
    }
    if (rule->times > 0) --rule->times;
    return rule->reply;
  }
  std::optional<Status> TakeConnectFailure() {
    std::lock_guard<std::mutex> lock(mu_);
    if (connect_failures_.empty()) return std::nullopt;
    Status s = connect_failures_.front();
    connect_failures_.pop_front();
    return s;
  }
  void RecordConnect(const ConnectOptions& options) {
    std::lock_guard<std::mutex> lock(mu_);
    connects_.push_back(options);
  }
  int generation() const { return generation_; }
  void Opened() {
    std::lock_guard<std::mutex> lock(mu_);
    ++open_;
  }
  void Closed() {
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
  }

 private:
  struct Rule {
    std::string key;
    bool prefix;
    Result<QueryResult> reply;
    int times;
  };

  Rule* Match(std::string_view sql) {
    Rule* best = nullptr;
    for (Rule& r : rules_) {
      if (r.times == 0) continue;
      if (r.prefix ? !sql.starts_with(r.key) : sql != r.key) continue;
      if (best == nullptr || Beats(r, *best)) best = &r;
    }
    return best;
  }
  // Whether `r`, added after `best`, should answer instead of it.
  static bool Beats(const Rule& r, const Rule& best) {
    if (r.prefix != best.prefix) return !r.prefix;
    return r.key.size() >= best.key.size();
  }

  std::mutex mu_;
  std::vector<Rule> rules_;
  Status unscripted_;
  std::deque<Status> connect_failures_;
  std::vector<std::string> statements_;
  std::vector<ConnectOptions> connects_;
  std::string version_ = "10.11.6-MariaDB-0+deb12u1-log";
  int generation_ = 0;
  int open_ = 0;
};

class FakeConnection final : public Connection {
 public:
  explicit FakeConnection(std::shared_ptr<FakeMySql> server)
      : server_(std::move(server)), generation_(server_->generation()) {
    server_->Opened();
  }
  ~FakeConnection() override { server_->Closed(); }
  FakeConnection(const FakeConnection&) = delete;
  FakeConnection& operator=(const FakeConnection&) = delete;

  Result<QueryResult> Query(std::string_view sql) override {
    if (generation_ != server_->generation()) {
      return Status::Unavailable("(2006) Server has gone away");
    }
    return server_->Run(sql);
  }
  Status Execute(std::string_view sql) override { return Query(sql).status(); }
  std::string ServerVersion() const override { return server_->server_version(); }

 private:
  std::shared_ptr<FakeMySql> server_;
  int generation_;
};

class FakeConnector final : public Connector {
 public:
  FakeConnector() : server_(std::make_shared<FakeMySql>()) {}
  // The shared server state, for scripting and inspection.
  FakeMySql& server() { return *server_; }

  Result<std::unique_ptr<Connection>> Connect(const ConnectOptions& options) override {
    server_->RecordConnect(options);
    if (std::optional<Status> failure = server_->TakeConnectFailure()) return *failure;
    return std::unique_ptr<Connection>(std::make_unique<FakeConnection>(server_));
  }

 private:
  std::shared_ptr<FakeMySql> server_;
};

// A result with the given columns and rows.
inline QueryResult MakeResult(std::vector<std::string> columns, std::vector<Row> rows) {
  return QueryResult{std::move(columns), std::move(rows)};
}

// A one-row, one-column result.
inline QueryResult OneValue(std::string column, std::optional<std::string> value) {
  return QueryResult{{std::move(column)}, {Row{std::move(value)}}};
}

// The SHOW ... STATUS reply `dialect` would give for `s`, using its column
// names; an unconfigured status gives no rows.
inline QueryResult ReplicaStatusResult(const Dialect& dialect, const ReplicaStatus& s) {
  if (!s.configured) return QueryResult{};
  ReplicaStatusColumns c = ReplicaStatusColumnsFor(dialect);
  QueryResult r;
  r.rows.emplace_back();
  auto add = [&](const std::string& name, std::optional<std::string> value) {
    if (name.empty()) return;
    r.columns.push_back(name);
    r.rows[0].push_back(std::move(value));
  };
  add(c.source_host, s.source_host);
  add(c.source_port, std::to_string(s.source_port));
  add(c.io_running, ThreadStateName(s.io_running));
  add(c.sql_running, ThreadStateName(s.sql_running));
  add(c.seconds_behind, s.seconds_behind
                            ? std::optional<std::string>(std::to_string(*s.seconds_behind))
                            : std::nullopt);
  add(c.last_io_errno, std::to_string(s.last_io_errno));
  add(c.last_io_error, s.last_io_error);
  add(c.last_sql_errno, std::to_string(s.last_sql_errno));
  add(c.last_sql_error, s.last_sql_error);
  add(c.retrieved, s.gtid_io_pos);
  add(c.executed, s.executed);
  return r;
}

}  // namespace manage::mysql
