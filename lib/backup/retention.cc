#include "backup/retention.h"

#include <algorithm>

namespace manage::backup {

std::vector<std::string> SnapshotsToDelete(const std::vector<StoredSnapshot>& snapshots,
                                           const RetentionPolicy& policy,
                                           const std::string& service, const std::string& newest_id,
                                           std::chrono::system_clock::time_point now) {
  std::vector<StoredSnapshot> ours;
  for (const StoredSnapshot& s : snapshots) {
    if (s.service == service) ours.push_back(s);
  }
  // Newest first; equal times by id, so the decision never depends on order.
  std::sort(ours.begin(), ours.end(), [](const StoredSnapshot& a, const StoredSnapshot& b) {
    return a.time != b.time ? a.time > b.time : a.id > b.id;
  });
  const auto max_age = std::chrono::hours(24) * policy.keep_days;
  std::vector<std::string> doomed;
  for (size_t i = 0; i < ours.size(); ++i) {
    const StoredSnapshot& s = ours[i];
    if (s.id == newest_id || s.time > now) continue;
    bool too_many = policy.keep_count > 0 && i >= static_cast<size_t>(policy.keep_count);
    bool too_old = policy.keep_days > 0 && now - s.time >= max_age;
    if (too_many || too_old) doomed.push_back(s.id);
  }
  std::reverse(doomed.begin(), doomed.end());
  return doomed;
}

}  // namespace manage::backup
