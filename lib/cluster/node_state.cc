#include "cluster/node_state.h"

#include <charconv>

namespace manage::cluster {

Status NodeState::EnsureDir() { return fs_->MakeDirs(dir_, 0700); }

std::string NodeState::Read(const std::string& name) const {
  auto data = fs_->ReadFile(Path(name));
  if (!data.ok()) return "";
  std::string v = *data;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

Status NodeState::Write(const std::string& name, const std::string& value) {
  return fs_->WriteFileAtomic(Path(name), value + "\n", 0600);
}

std::string NodeState::BootId() const {
  auto id = fs_->ReadFile("/proc/sys/kernel/random/boot_id");
  if (!id.ok()) return "";
  std::string v = *id;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

std::string NodeState::ReadThisBoot(const std::string& name) const {
  const std::string stored = Read(name);
  const size_t eol = stored.find('\n');
  if (eol == std::string::npos || stored.compare(0, eol, BootId()) != 0) return "";
  return stored.substr(eol + 1);
}

Status NodeState::WriteThisBoot(const std::string& name, const std::string& value) {
  // Worthless after a reboot, so never worth an fsync (the lease proof is
  // written on every pass of the primary).
  return fs_->ReplaceFile(Path(name), BootId() + "\n" + value + "\n", 0600);
}

Status NodeState::ForgetData() {
  for (const char* name : {"role", "origin", "bootstrapped", "restored-gtid", "source", "lease"}) {
    MANAGE_RETURN_IF_ERROR(fs_->RemoveFile(Path(name)));
  }
  return Status::Ok();
}

std::optional<uint32_t> NodeState::ServerId() const {
  std::string v = Read("server-id");
  uint32_t id = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), id);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || id == 0) {
    return std::nullopt;
  }
  return id;
}

}  // namespace manage::cluster
