// Where `manage serve`'s facts come from, and the threads that refresh them.
//
// LocalReader reads this node's facts: one connection to the local mysqld
// over its socket, kept open between refreshes and reopened after a failure
// (short timeouts: a hung mysqld makes the facts stale, never a request
// wait), and PRIMARY_KEY plus the service's instances from Consul (two
// requests on a kept-alive connection). ReadCluster collects what `manage
// status` shows. Neither is thread-safe: one of each per refresh thread, each
// with its own Consul client.
//
// Ticker runs a function every period on a thread of its own until it is
// destroyed; a run that takes longer than the period delays the next, never
// overlaps it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "hooks/deps.h"
#include "mysql/flavor.h"
#include "serve/facts.h"

namespace manage::serve {

class LocalReader {
 public:
  // `deps` is copied; its borrowed pointers (config, consul, connector, fs,
  // clock) must outlive the reader.
  explicit LocalReader(const hooks::Deps& deps) : deps_(deps) {}
  LocalFacts Read();

 private:
  void ReadMysqld(LocalFacts& facts);
  void ReadConsul(LocalFacts& facts);

  hooks::Deps deps_;
  std::unique_ptr<mysql::Connection> conn_;
  mysql::Dialect dialect_;
};

// Every node as `manage status` sees it (hooks/status.h), stamped with when.
ClusterFacts ReadCluster(hooks::Deps& deps);

class Ticker {
 public:
  Ticker(std::chrono::milliseconds period, std::function<void()> run);
  ~Ticker();  // waits for a run in progress to end
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

 private:
  void Loop();

  std::chrono::milliseconds period_;
  std::function<void()> run_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace manage::serve
