// GtidOrder names and the flavour-agnostic text functions.
#include "mysql/gtid.h"

namespace manage::mysql {
namespace {

// Parses `a` and `b` as the flavour's GTID type and applies `fn` to them.
template <typename Fn>
auto WithParsed(Flavor flavor, std::string_view a, std::string_view b, Fn fn)
    -> Result<decltype(fn(MySqlGtidSet(), MySqlGtidSet()))> {
  if (flavor == Flavor::kMariaDb) {
    Result<MariaDbGtidPosition> pa = MariaDbGtidPosition::Parse(a);
    if (!pa.ok()) return pa.status();
    Result<MariaDbGtidPosition> pb = MariaDbGtidPosition::Parse(b);
    if (!pb.ok()) return pb.status();
    return fn(*pa, *pb);
  }
  Result<MySqlGtidSet> sa = MySqlGtidSet::Parse(a);
  if (!sa.ok()) return sa.status();
  Result<MySqlGtidSet> sb = MySqlGtidSet::Parse(b);
  if (!sb.ok()) return sb.status();
  return fn(*sa, *sb);
}

}  // namespace

const char* GtidOrderName(GtidOrder order) {
  switch (order) {
    case GtidOrder::kEqual:
      return "equal";
    case GtidOrder::kBehind:
      return "behind";
    case GtidOrder::kAhead:
      return "ahead";
    case GtidOrder::kDiverged:
      return "diverged";
  }
  return "unknown";
}

Result<std::string> CanonicalGtid(Flavor flavor, std::string_view text) {
  return WithParsed(flavor, text, "", [](const auto& a, const auto&) { return a.ToString(); });
}

Result<bool> GtidIsSubset(Flavor flavor, std::string_view a, std::string_view b) {
  return WithParsed(flavor, a, b, [](const auto& x, const auto& y) { return x.IsSubsetOf(y); });
}

Result<std::string> GtidErrant(Flavor flavor, std::string_view a, std::string_view b) {
  return WithParsed(flavor, a, b,
                    [](const auto& x, const auto& y) { return x.Difference(y).ToString(); });
}

Result<GtidOrder> CompareGtid(Flavor flavor, std::string_view a, std::string_view b) {
  return WithParsed(flavor, a, b, [](const auto& x, const auto& y) { return Compare(x, y); });
}

}  // namespace manage::mysql
