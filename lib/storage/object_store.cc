#include "storage/object_store.h"

namespace manage::storage {

Status ValidateObjectName(std::string_view name) {
  auto bad = [name](const char* why) {
    return Status::InvalidArgument("bad object name '" + std::string(name) + "': " + why);
  };
  if (name.empty() || name.size() > 255) return bad("must be 1 to 255 bytes");
  if (name.find('/') != std::string_view::npos) return bad("contains '/'");
  if (name.find("..") != std::string_view::npos) return bad("contains '..'");
  if (name.front() == '.') return bad("starts with '.'");
  if (name.ends_with(".partial")) return bad("ends with '.partial'");
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return bad("contains a control character");
  }
  return Status::Ok();
}

}  // namespace manage::storage
