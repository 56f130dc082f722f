// NodeState: the few facts a node keeps between hook runs, one small file each
// under MANAGE_STATE_DIR so that concurrent hooks (health, on_change, snapshot)
// never overwrite each other's fields. Every write is atomic (rename).
// Persist the state dir together with the datadir.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cluster/role.h"
#include "core/status.h"
#include "sys/fs.h"

namespace manage::cluster {

class NodeState {
 public:
  // `fs` must outlive this object.
  NodeState(sys::FileSystem* fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}

  Status EnsureDir();

  // The Consul session this node holds PRIMARY_KEY with (may be stale).
  std::string Session() const { return Read("session"); }
  Status SetSession(const std::string& id) { return Write("session", id); }
  Status ClearSession() { return fs_->RemoveFile(Path("session")); }

  Role LastRole() const { return ParseRole(Read("role")); }
  Status SetRole(Role role) { return Write("role", RoleName(role)); }

  Origin DataOrigin() const { return ParseOrigin(Read("origin")); }
  Status SetOrigin(Origin origin) { return Write("origin", OriginName(origin)); }
  Status ClearOrigin() { return fs_->RemoveFile(Path("origin")); }

  std::optional<uint32_t> ServerId() const;
  Status SetServerId(uint32_t id) { return Write("server-id", std::to_string(id)); }

  // GTID position of a restored snapshot, until replication has been set up from it.
  std::string RestoredGtid() const { return Read("restored-gtid"); }
  Status SetRestoredGtid(const std::string& gtid) { return Write("restored-gtid", gtid); }
  Status ClearRestoredGtid() { return fs_->RemoveFile(Path("restored-gtid")); }

  // The node replication was last pointed at, with its address, "<node> <host>:<port>".
  // While it names the lock holder and replication runs from that address, a
  // replica's health pass does not ask Consul where the primary is.
  std::string ReplicationSource() const { return Read("source"); }
  Status SetReplicationSource(const std::string& source) { return Write("source", source); }

  // The primary's lease proof (cluster/lease.h, FormatLeaseProof). Cleared
  // before the primary gives the lock up itself (a release, an ended session):
  // from then on it proves nothing about who may hold the lock. Its times
  // count from boot, so it is read back only in the boot that wrote it.
  std::string LeaseProof() const { return ReadThisBoot("lease"); }
  Status SetLeaseProof(const std::string& proof) { return WriteThisBoot("lease", proof); }
  Status ClearLeaseProof() { return fs_->RemoveFile(Path("lease")); }

  // When this node first saw PRIMARY_KEY missing, ms since boot; empty while
  // it exists.
  std::string LockMissingSince() const { return ReadThisBoot("lock-missing"); }
  Status SetLockMissingSince(const std::string& ms) { return WriteThisBoot("lock-missing", ms); }
  Status ClearLockMissingSince() { return fs_->RemoveFile(Path("lock-missing")); }

  // PRIMARY_KEY's holder when this node last saw it held: "<CreateIndex> <session>".
  std::string LockHolderSeen() const { return Read("lock-holder"); }
  Status SetLockHolderSeen(const std::string& seen) { return Write("lock-holder", seen); }

  // True once the first primary created users, database and time zones.
  bool Bootstrapped() const { return fs_->Exists(Path("bootstrapped")); }
  Status SetBootstrapped() { return Write("bootstrapped", "yes"); }

  // Set when this node found errant transactions and ERRANT_POLICY=reclone:
  // the next pre_start moves the datadir aside and provisions anew. The value
  // says why (the errant GTIDs).
  std::string RecloneRequest() const { return Read("reclone"); }
  Status RequestReclone(const std::string& why) { return Write("reclone", why); }
  Status ClearRecloneRequest() { return fs_->RemoveFile(Path("reclone")); }

  // Set while pre_start restores a point in time (the target), so that a
  // restore cut short is never taken for data: the next start discards it.
  std::string PointInTimeRestore() const { return Read("pitr-restore"); }
  Status SetPointInTimeRestore(const std::string& target) { return Write("pitr-restore", target); }
  Status ClearPointInTimeRestore() { return fs_->RemoveFile(Path("pitr-restore")); }

  // Forgets everything learnt about the data (role, origin, bootstrap, restored
  // position, replication source, lease proof) for a datadir that is being
  // created anew. Keeps the server_id and leaves the session to the caller,
  // who must destroy it in Consul first.
  Status ForgetData();

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  // A fact whose value counts from boot (CLOCK_BOOTTIME): stored after the
  // kernel's boot_id, and "" when read in another boot.
  std::string ReadThisBoot(const std::string& name) const;
  Status WriteThisBoot(const std::string& name, const std::string& value);
  std::string BootId() const;
  std::string Read(const std::string& name) const;
  Status Write(const std::string& name, const std::string& value);

  sys::FileSystem* fs_;
  std::string dir_;
};

}  // namespace manage::cluster
