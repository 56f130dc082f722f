// FakeFileSystem: an in-memory FileSystem. Paths are absolute, without a
// trailing '/'; "/" always exists. Every call is recorded ("Rename /a /b") and
// any operation on a path can be made to fail. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sys/fs.h"

namespace manage::sys {

class FakeFileSystem final : public FileSystem {
 public:
  struct Node {
    bool is_dir = false;
    std::string data;
    mode_t mode = 0644;
    std::string owner;  // set by ChownRecursive
  };

  FakeFileSystem() { nodes_["/"] = Node{true, "", 0755, ""}; }

  // Test setup: a file (parents created as needed) or a directory tree.
  void AddFile(const std::string& path, std::string data, mode_t mode = 0644) {
    AddDir(Parent(path));
    nodes_[path] = Node{false, std::move(data), mode, ""};
  }
  void AddDir(const std::string& path) {
    for (const std::string& p : Prefixes(path)) {
      if (!nodes_.count(p)) nodes_[p] = Node{true, "", 0755, ""};
    }
  }
  // Makes `op` ("ReadFile", "WriteFileAtomic", "ReplaceFile", "MakeDirs", "Rename", "RemoveFile",
  // "RemoveAll", "ListDir", "ChownRecursive") on `path` (the source for Rename)
  // fail with `status`; an empty path matches every path.
  void FailOn(const std::string& op, const std::string& path, Status status) {
    failures_[{op, path}] = std::move(status);
  }
  void ClearFailures() { failures_.clear(); }
  // Users ChownRecursive knows; others are NotFound.
  std::set<std::string>& users() { return users_; }

  const std::map<std::string, Node>& nodes() const { return nodes_; }
  const Node* Find(const std::string& path) const {
    auto it = nodes_.find(path);
    return it == nodes_.end() ? nullptr : &it->second;
  }
  const std::vector<std::string>& calls() const { return calls_; }

  bool Exists(const std::string& path) const override { return nodes_.count(path) > 0; }
  bool IsDirectory(const std::string& path) const override {
    const Node* n = Find(path);
    return n != nullptr && n->is_dir;
  }

  Result<std::string> ReadFile(const std::string& path) const override {
    calls_.push_back("ReadFile " + path);
    MANAGE_RETURN_IF_ERROR(Injected("ReadFile", path));
    const Node* n = Find(path);
    if (n == nullptr) return Status::NotFound("open " + path + ": No such file or directory");
    if (n->is_dir) return Status::FailedPrecondition("read " + path + ": Is a directory");
    return n->data;
  }

  Status WriteFileAtomic(const std::string& path, const std::string& data,
                         mode_t mode = 0644) override {
    calls_.push_back("WriteFileAtomic " + path);
    MANAGE_RETURN_IF_ERROR(Injected("WriteFileAtomic", path));
    return Put(path, data, mode);
  }
  Status ReplaceFile(const std::string& path, const std::string& data,
                     mode_t mode = 0644) override {
    calls_.push_back("ReplaceFile " + path);
    MANAGE_RETURN_IF_ERROR(Injected("ReplaceFile", path));
    return Put(path, data, mode);
  }
  Status Put(const std::string& path, const std::string& data, mode_t mode) {
    if (!IsDirectory(Parent(path))) return Status::NotFound("no directory " + Parent(path));
    if (IsDirectory(path)) return Status::FailedPrecondition(path + " is a directory");
    nodes_[path] = Node{false, data, mode, ""};
    return Status::Ok();
  }

  Status MakeDirs(const std::string& path, mode_t mode = 0755) override {
    calls_.push_back("MakeDirs " + path);
    MANAGE_RETURN_IF_ERROR(Injected("MakeDirs", path));
    for (const std::string& p : Prefixes(path)) {
      const Node* n = Find(p);
      if (n != nullptr && !n->is_dir) return Status::FailedPrecondition(p + " is not a directory");
      if (n == nullptr) nodes_[p] = Node{true, "", mode, ""};
    }
    return Status::Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    calls_.push_back("Rename " + from + " " + to);
    MANAGE_RETURN_IF_ERROR(Injected("Rename", from));
    const Node* src = Find(from);
    if (src == nullptr) return Status::NotFound("rename " + from + ": No such file or directory");
    if (!IsDirectory(Parent(to))) return Status::NotFound("no directory " + Parent(to));
    if (const Node* dst = Find(to)) {
      if (dst->is_dir != src->is_dir) return Status::FailedPrecondition("rename: type mismatch");
      if (dst->is_dir && !Children(to).empty()) {
        return Status::FailedPrecondition("rename " + from + " to " + to + ": Directory not empty");
      }
    }
    std::map<std::string, Node> moved;
    for (const std::string& p : Subtree(from)) {
      moved[to + p.substr(from.size())] = std::move(nodes_[p]);
      nodes_.erase(p);
    }
    for (auto& [p, n] : moved) nodes_[p] = std::move(n);
    return Status::Ok();
  }

  Status RemoveFile(const std::string& path) override {
    calls_.push_back("RemoveFile " + path);
    MANAGE_RETURN_IF_ERROR(Injected("RemoveFile", path));
    if (IsDirectory(path)) return Status::FailedPrecondition("unlink " + path + ": Is a directory");
    nodes_.erase(path);
    return Status::Ok();
  }

  Status RemoveAll(const std::string& path) override {
    calls_.push_back("RemoveAll " + path);
    MANAGE_RETURN_IF_ERROR(Injected("RemoveAll", path));
    for (const std::string& p : Subtree(path)) nodes_.erase(p);
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) const override {
    calls_.push_back("ListDir " + path);
    MANAGE_RETURN_IF_ERROR(Injected("ListDir", path));
    const Node* n = Find(path);
    if (n == nullptr) return Status::NotFound("open " + path + ": No such file or directory");
    if (!n->is_dir) return Status::FailedPrecondition("open " + path + ": Not a directory");
    return Children(path);
  }

  Status ChownRecursive(const std::string& path, const std::string& user) override {
    calls_.push_back("ChownRecursive " + path + " " + user);
    MANAGE_RETURN_IF_ERROR(Injected("ChownRecursive", path));
    if (!users_.count(user)) return Status::NotFound("no user named '" + user + "'");
    if (!Exists(path)) return Status::NotFound("chown " + path + ": No such file or directory");
    for (const std::string& p : Subtree(path)) nodes_[p].owner = user;
    return Status::Ok();
  }

 private:
  static std::string Parent(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
  // "/a/b" -> {"/", "/a", "/a/b"}
  static std::vector<std::string> Prefixes(const std::string& path) {
    std::vector<std::string> out = {"/"};
    for (size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
      out.push_back(path.substr(0, pos));
    }
    if (path != "/") out.push_back(path);
    return out;
  }
  // `path` and everything below it.
  std::vector<std::string> Subtree(const std::string& path) const {
    std::vector<std::string> out;
    if (!Exists(path)) return out;
    out.push_back(path);
    std::string prefix = path == "/" ? "/" : path + "/";
    for (auto it = nodes_.lower_bound(prefix); it != nodes_.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      if (it->first != path) out.push_back(it->first);
    }
    return out;
  }
  std::vector<std::string> Children(const std::string& path) const {
    std::vector<std::string> names;
    std::string prefix = path == "/" ? "/" : path + "/";
    for (const std::string& p : Subtree(path)) {
      if (p == path) continue;
      std::string rest = p.substr(prefix.size());
      if (rest.find('/') == std::string::npos) names.push_back(rest);
    }
    return names;
  }
  Status Injected(const std::string& op, const std::string& path) const {
    for (const std::string& key : {path, std::string()}) {
      auto it = failures_.find({op, key});
      if (it != failures_.end()) return it->second;
    }
    return Status::Ok();
  }

  std::map<std::string, Node> nodes_;
  std::map<std::pair<std::string, std::string>, Status> failures_;
  std::set<std::string> users_ = {"root", "mysql"};
  mutable std::vector<std::string> calls_;
};

}  // namespace manage::sys
