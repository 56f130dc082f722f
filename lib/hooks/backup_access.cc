#include "hooks/backup_access.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>

namespace manage::hooks {

Result<std::optional<backup::BackupKey>> LoadBackupKey(const Deps& deps) {
  const SnapshotSettings& s = deps.config->snapshot;
  if (!s.encryption_key.empty()) {
    auto key = backup::ParseBackupKey(s.encryption_key);
    if (!key.ok()) return key.status().Annotate("SNAPSHOT_ENCRYPTION_KEY");
    return std::optional<backup::BackupKey>(*key);
  }
  if (s.encryption_key_file.empty()) return std::optional<backup::BackupKey>();
  auto content = deps.fs->ReadFile(s.encryption_key_file);
  if (!content.ok()) return content.status().Annotate("SNAPSHOT_ENCRYPTION_KEY_FILE");
  auto key = backup::ParseBackupKeyFile(*content);
  if (!key.ok()) {
    return key.status().Annotate("SNAPSHOT_ENCRYPTION_KEY_FILE " + s.encryption_key_file);
  }
  return std::optional<backup::BackupKey>(*key);
}

backup::Encoding SnapshotEncoding(const Config& config, const backup::BackupKey* key) {
  return {config.snapshot.compression_level, config.snapshot.compression_threads, key};
}

std::string FormatProgress(uint64_t bytes, std::chrono::milliseconds elapsed) {
  auto human = [](double v, const char* unit) {
    const char* prefixes[] = {"", "k", "M", "G", "T"};
    int i = 0;
    while (v >= 1000 && i < 4) {
      v /= 1000;
      ++i;
    }
    return fmt::format("{:.{}f} {}{}", v,
                       i == 0 ? 0
                              : (v < 10    ? 2
                                 : v < 100 ? 1
                                           : 0),
                       prefixes[i], unit);
  };
  double seconds = elapsed.count() / 1000.0;
  std::string out = human(static_cast<double>(bytes), "B");
  if (seconds > 0) out += ", " + human(bytes / seconds, "B/s");
  return out;
}

Progress ProgressLine(const Deps& deps, std::string what) {
  if (!deps.interactive) return {nullptr, [] {}};
  struct State {
    std::string what;
    sys::Clock* clock;
    std::chrono::steady_clock::time_point start, last;
    uint64_t bytes = 0;
    bool shown = false;
  };
  auto st = std::make_shared<State>();
  st->what = std::move(what);
  st->clock = deps.clock;
  st->start = st->last = deps.clock->Monotonic();
  auto show = [st] {
    auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(st->clock->Monotonic() - st->start);
    std::fprintf(stderr, "\r%s %s   ", st->what.c_str(),
                 FormatProgress(st->bytes, elapsed).c_str());
    std::fflush(stderr);
    st->shown = true;
  };
  Progress p;
  p.update = [st, show](uint64_t bytes) {
    st->bytes = bytes;
    auto now = st->clock->Monotonic();
    if (now - st->last < std::chrono::seconds(1)) return;
    st->last = now;
    show();
  };
  p.done = [st, show] {
    if (!st->shown) return;
    show();
    std::fputc('\n', stderr);
  };
  return p;
}

}  // namespace manage::hooks
