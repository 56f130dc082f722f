#include "archive/segment.h"

#include <fmt/format.h>

#include <charconv>
#include <vector>

#include "storage/object_store.h"

namespace manage::archive {
namespace {

constexpr size_t kKeyIdDigits = 16;
constexpr size_t kShaDigits = 64;

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return !s.empty();
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::vector<std::string_view> SplitOn(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

Status Bad(std::string_view name, const char* why) {
  return Status::InvalidArgument(fmt::format("'{}' is not a binlog segment name: {}", name, why));
}

bool IsKind(char c) { return c == 't' || c == 's' || c == 'f' || c == 'm'; }

}  // namespace

std::string GtidText(const MariaDbGtid& g) {
  return fmt::format("{}-{}-{}", g.domain_id, g.server_id, g.seqno);
}

Result<MariaDbGtid> ParseGtid(std::string_view text) {
  std::vector<std::string_view> parts = SplitOn(text, '-');
  MariaDbGtid g;
  if (parts.size() != 3 || !ParseNumber(parts[0], &g.domain_id) ||
      !ParseNumber(parts[1], &g.server_id) || !ParseNumber(parts[2], &g.seqno)) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a GTID domain-server-seqno");
  }
  return g;
}

Result<std::string> SegmentName(const SegmentInfo& s) {
  if (!IsHex(s.sha256) || s.sha256.size() != kShaDigits) {
    return Status::InvalidArgument("segment checksum is not 64 hex digits");
  }
  if (!s.key_id.empty() && (!IsHex(s.key_id) || s.key_id.size() != kKeyIdDigits)) {
    return Status::InvalidArgument("segment key id is not 16 hex digits");
  }
  std::string encoding = s.zstd ? "z" : "n";
  if (!s.key_id.empty()) encoding += "a" + s.key_id;
  std::string name =
      fmt::format("{:010}_{}_{}_{}_{}_{}_{}_{}_{}_{}", s.epoch, static_cast<char>(s.kind),
                  GtidText(s.prev), GtidText(s.first), GtidText(s.last), s.time_min, s.time_max,
                  s.transactions, encoding, s.sha256);
  MANAGE_RETURN_IF_ERROR(storage::ValidateObjectName(name));
  return name;
}

Result<SegmentInfo> ParseSegmentName(std::string_view name) {
  std::vector<std::string_view> f = SplitOn(name, '_');
  if (f.size() != 10) return Bad(name, "want 10 fields separated by '_'");
  SegmentInfo s;
  if (f[0].size() != 10 || !ParseNumber(f[0], &s.epoch)) return Bad(name, "bad epoch");
  if (f[1].size() != 1 || !IsKind(f[1][0])) return Bad(name, "bad kind");
  s.kind = static_cast<SegmentKind>(f[1][0]);
  auto prev = ParseGtid(f[2]);
  auto first = ParseGtid(f[3]);
  auto last = ParseGtid(f[4]);
  if (!prev.ok() || !first.ok() || !last.ok()) return Bad(name, "bad GTID");
  s.prev = *prev;
  s.first = *first;
  s.last = *last;
  if (!ParseNumber(f[5], &s.time_min) || !ParseNumber(f[6], &s.time_max) ||
      !ParseNumber(f[7], &s.transactions)) {
    return Bad(name, "bad time or count");
  }
  std::string_view enc = f[8];
  if (enc.empty() || (enc[0] != 'n' && enc[0] != 'z')) return Bad(name, "bad encoding");
  s.zstd = enc[0] == 'z';
  enc.remove_prefix(1);
  if (!enc.empty()) {
    if (enc[0] != 'a' || enc.size() != 1 + kKeyIdDigits || !IsHex(enc.substr(1))) {
      return Bad(name, "bad key id");
    }
    s.key_id = std::string(enc.substr(1));
  }
  if (f[9].size() != kShaDigits || !IsHex(f[9])) return Bad(name, "bad checksum");
  s.sha256 = std::string(f[9]);
  const bool marker = s.kind == SegmentKind::kMarker;
  if (marker != (s.transactions == 0)) return Bad(name, "only a marker has no transactions");
  if (s.prev.domain_id != s.first.domain_id || s.first.domain_id != s.last.domain_id) {
    return Bad(name, "GTIDs of different domains");
  }
  if (marker ? !(s.first == s.prev && s.last == s.prev)
             : (s.first.seqno == 0 || s.first.seqno <= s.prev.seqno ||
                s.last.seqno < s.first.seqno || s.time_max < s.time_min)) {
    return Bad(name, "GTIDs or times out of order");
  }
  s.name = std::string(name);
  return s;
}

SegmentInfo MarkerSegment(uint64_t epoch, const MariaDbGtid& at) {
  SegmentInfo s;
  s.epoch = epoch;
  s.kind = SegmentKind::kMarker;
  s.prev = s.first = s.last = at;
  return s;
}

backup::BackupRecord DecodingRecord(const SegmentInfo& s) {
  backup::BackupRecord r;
  r.id = s.name;
  r.compression = s.zstd ? backup::kCompressionZstd : backup::kCompressionNone;
  r.encryption = s.key_id.empty() ? backup::kEncryptionNone : backup::kEncryptionAesGcm;
  r.key_id = s.key_id;
  return r;
}

}  // namespace manage::archive
