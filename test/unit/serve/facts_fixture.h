// Facts of a healthy replica and of a primary, for the serve tests.
#pragma once

#include "serve/facts.h"

namespace manage::serve {

// A healthy replica of mysql-n1 (10.0.0.11:3306), 2 s behind.
inline LocalFacts Replica() {
  LocalFacts f;
  f.taken = SteadyTime{} + std::chrono::seconds(100);
  f.mysqld_up = true;
  f.read_only = true;
  f.replica.configured = true;
  f.replica.io_running = mysql::ThreadState::kYes;
  f.replica.sql_running = mysql::ThreadState::kYes;
  f.replica.seconds_behind = 2;
  f.replica.source_host = "10.0.0.11";
  f.replica.source_port = 3306;
  f.consul_up = true;
  f.lock_held = true;
  f.lock_holder = "mysql-n1";
  f.holder_host = "10.0.0.11";
  f.holder_port = 3306;
  f.passing = true;
  return f;
}

inline LocalFacts Primary() {
  LocalFacts f = Replica();
  f.replica = mysql::ReplicaStatus{};
  f.read_only = false;
  f.lock_mine = true;
  f.lock_holder = "mysql-n2";
  f.holder_host = "10.0.0.12";
  return f;
}

}  // namespace manage::serve
