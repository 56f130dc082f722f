#include "mysql/replica_status.h"

#include <limits>

#include "mysql/replication_sql.h"
#include "mysql/text.h"

namespace manage::mysql {
namespace {

// The dialect whose SHOW ... STATUS uses the other column spelling.
Dialect OtherSpelling(const Dialect& d) {
  bool replica_words = d.flavor == Flavor::kMySql && d.version >= Version{8, 0, 22};
  return replica_words ? Dialect{Flavor::kMySql, {8, 0, 0}} : Dialect{Flavor::kMySql, {8, 0, 22}};
}

// Reads row 0 by column name, trying the dialect's spelling, then the other.
class StatusRow {
 public:
  StatusRow(const QueryResult& r, const Dialect& d)
      : r_(r),
        mine_(ReplicaStatusColumnsFor(d)),
        other_(ReplicaStatusColumnsFor(OtherSpelling(d))) {}

  // The value of the field named by `member`; `*found` tells whether the column exists.
  std::optional<std::string> Get(std::string ReplicaStatusColumns::*member, bool* found) const {
    for (const std::string* name : {&(mine_.*member), &(other_.*member)}) {
      if (name->empty()) continue;
      for (size_t i = 0; i < r_.columns.size(); ++i) {
        if (r_.columns[i] != *name) continue;
        *found = true;
        return i < r_.rows[0].size() ? r_.rows[0][i] : std::nullopt;
      }
    }
    *found = false;
    return std::nullopt;
  }

  Result<std::string> Required(std::string ReplicaStatusColumns::*member) const {
    bool found = false;
    std::optional<std::string> v = Get(member, &found);
    if (!found) return Status::Internal("replica status lacks column " + mine_.*member);
    return v.value_or("");
  }

  std::string Optional(std::string ReplicaStatusColumns::*member) const {
    bool found = false;
    return Get(member, &found).value_or("");
  }

  // A non-negative number; nullopt for NULL or "".
  Result<std::optional<int64_t>> Number(std::string ReplicaStatusColumns::*member) const {
    std::string text = Optional(member);
    if (text.empty()) return std::optional<int64_t>();
    auto n = internal::ParseUint(text);
    if (!n || *n > static_cast<uint64_t>(std::numeric_limits<int>::max())) {
      return Status::Internal("replica status " + mine_.*member + " is not a number: " + text);
    }
    return std::optional<int64_t>(static_cast<int64_t>(*n));
  }

 private:
  const QueryResult& r_;
  ReplicaStatusColumns mine_;
  ReplicaStatusColumns other_;
};

// The single value of a one-row, one-column reply ("" for NULL).
Result<std::string> Scalar(const Result<QueryResult>& reply, const std::string& what) {
  if (!reply.ok()) return reply.status();
  if (reply->rows.empty() || reply->rows[0].empty()) {
    return Status::Internal(what + " returned no value");
  }
  return reply->rows[0][0].value_or("");
}

}  // namespace

ThreadState ParseThreadState(std::optional<std::string> text) {
  if (text == "Yes") return ThreadState::kYes;
  if (text == "Connecting") return ThreadState::kConnecting;
  return ThreadState::kNo;
}

const char* ThreadStateName(ThreadState state) {
  switch (state) {
    case ThreadState::kYes:
      return "Yes";
    case ThreadState::kConnecting:
      return "Connecting";
    case ThreadState::kNo:
      return "No";
  }
  return "No";
}

Result<ReplicaStatus> ParseReplicaStatus(const QueryResult& result, const Dialect& dialect) {
  ReplicaStatus s;
  if (result.rows.empty()) return s;
  StatusRow row(result, dialect);
  using C = ReplicaStatusColumns;
  Result<std::string> io = row.Required(&C::io_running);
  Result<std::string> sql = row.Required(&C::sql_running);
  Result<std::string> host = row.Required(&C::source_host);
  for (const Result<std::string>* r : {&io, &sql, &host}) MANAGE_RETURN_IF_ERROR(r->status());
  s.io_running = ParseThreadState(*io);
  s.sql_running = ParseThreadState(*sql);
  s.source_host = *host;
  s.configured = !s.source_host.empty();
  auto behind = row.Number(&C::seconds_behind);
  auto port = row.Number(&C::source_port);
  auto io_errno = row.Number(&C::last_io_errno);
  auto sql_errno = row.Number(&C::last_sql_errno);
  for (const auto* r : {&behind, &port, &io_errno, &sql_errno}) {
    MANAGE_RETURN_IF_ERROR(r->status());
  }
  s.seconds_behind = *behind;
  s.source_port = static_cast<int>(port->value_or(0));
  s.last_io_errno = static_cast<int>(io_errno->value_or(0));
  s.last_sql_errno = static_cast<int>(sql_errno->value_or(0));
  s.last_io_error = row.Optional(&C::last_io_error);
  s.last_sql_error = row.Optional(&C::last_sql_error);
  s.gtid_io_pos = internal::StripSpace(row.Optional(&C::retrieved));
  s.executed = internal::StripSpace(row.Optional(&C::executed));
  return s;
}

Result<GtidState> ReadGtidState(Connection& conn, const Dialect& dialect) {
  Result<QueryResult> reply = conn.Query(ReadGtidStateSql(dialect));
  if (!reply.ok()) return reply.status();
  size_t want = dialect.flavor == Flavor::kMariaDb ? 3 : 1;
  if (reply->rows.empty() || reply->rows[0].size() < want) {
    return Status::Internal("GTID state query returned no row");
  }
  const Row& row = reply->rows[0];
  GtidState state;
  state.executed = internal::StripSpace(row[0].value_or(""));
  if (want == 3) {
    state.binlog_pos = internal::StripSpace(row[1].value_or(""));
    state.slave_pos = internal::StripSpace(row[2].value_or(""));
  }
  return state;
}

Result<ReplicaStatus> ReadReplicaStatus(Connection& conn, const Dialect& dialect) {
  Result<QueryResult> reply = conn.Query(ShowReplicaStatusSql(dialect));
  if (!reply.ok()) return reply.status();
  return ParseReplicaStatus(*reply, dialect);
}

Result<bool> ReadReadOnly(Connection& conn) {
  Result<std::string> value = Scalar(conn.Query(ReadReadOnlySql()), "read_only query");
  if (!value.ok()) return value.status();
  if (*value == "1" || *value == "ON") return true;
  if (*value == "0" || *value == "OFF") return false;
  return Status::Internal("unexpected read_only value '" + *value + "'");
}

Status SetReadOnly(Connection& conn, const Dialect& dialect, bool read_only) {
  return conn.Execute(SetReadOnlySql(dialect, read_only));
}

Status WaitForGtid(Connection& conn, const Dialect& dialect, std::string_view position,
                   std::chrono::seconds timeout) {
  Result<std::string> sql = WaitForGtidSql(dialect, position, timeout);
  if (!sql.ok()) return sql.status();
  Result<std::string> value = Scalar(conn.Query(*sql), "GTID wait");
  if (!value.ok()) return value.status();
  if (*value == "0") return Status::Ok();
  const char* timed_out = dialect.flavor == Flavor::kMariaDb ? "-1" : "1";
  if (*value == timed_out) {
    return Status::DeadlineExceeded("GTID " + std::string(position) + " not applied within " +
                                    std::to_string(timeout.count()) + "s");
  }
  return Status::Internal("unexpected GTID wait result '" + *value + "'");
}

}  // namespace manage::mysql
