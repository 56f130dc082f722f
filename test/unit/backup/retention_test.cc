#include "backup/retention.h"

#include <catch2/catch.hpp>

namespace manage::backup {
namespace {

using namespace std::chrono;
using Ids = std::vector<std::string>;

const system_clock::time_point kNow = sys_days{year{2026} / 11 / 29} + hours(12);

// Snapshots "d<n>" taken n days before now, by the cluster "mysql".
std::vector<StoredSnapshot> DaysAgo(std::initializer_list<int> days) {
  std::vector<StoredSnapshot> out;
  for (int d : days) out.push_back({"d" + std::to_string(d), kNow - hours(24 * d), "mysql"});
  return out;
}

TEST_CASE("Retention keeps the newest N younger than D days, and never the newest record") {
  struct Row {
    std::string name;
    std::vector<StoredSnapshot> snapshots;
    RetentionPolicy policy;
    std::string newest;
    Ids want;
  };
  std::vector<StoredSnapshot> mixed = DaysAgo({0, 1, 2});
  mixed.push_back({"other", kNow - hours(24 * 40), "orders"});
  std::vector<StoredSnapshot> future = DaysAgo({0, 1, 2});
  future.push_back({"ahead", kNow + hours(2), "mysql"});
  const Row rows[] = {
      {"under the count: nothing", DaysAgo({0, 1, 2}), {7, 0}, "d0", {}},
      {"over the count: the oldest go, oldest first",
       DaysAgo({3, 0, 5, 1, 4, 2}),
       {3, 0},
       "d0",
       {"d5", "d4", "d3"}},
      {"by age only", DaysAgo({0, 6, 7, 30}), {0, 7}, "d0", {"d30", "d7"}},
      {"both limits apply", DaysAgo({0, 1, 2, 10}), {3, 7}, "d0", {"d10"}},
      {"both limits apply (count bites)", DaysAgo({0, 1, 2, 3}), {2, 7}, "d0", {"d3", "d2"}},
      {"no limits: keep all", DaysAgo({0, 100, 1000}), {0, 0}, "d0", {}},
      {"the record's snapshot survives even when old", DaysAgo({40, 50}), {1, 7}, "d50", {"d40"}},
      {"another cluster's snapshots are not ours", mixed, {1, 7}, "d0", {"d2", "d1"}},
      {"a snapshot dated in the future is left alone", future, {2, 0}, "d0", {"d2", "d1"}},
      {"nothing listed", {}, {1, 1}, "d0", {}},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    CHECK(SnapshotsToDelete(row.snapshots, row.policy, "mysql", row.newest, kNow) == row.want);
  }
}

}  // namespace
}  // namespace manage::backup
