// LockViews for table tests of decisions made from PRIMARY_KEY.
#pragma once

#include <string>

#include "cluster/role.h"

namespace manage::cluster {

// PRIMARY_KEY held by `session`, its value naming `node`.
inline LockView Held(const std::string& session, const std::string& node) {
  LockView v;
  v.present = true;
  v.held = true;
  v.holder_session = session;
  v.value = node;
  return v;
}

// PRIMARY_KEY free, its value naming `last_holder` ("" for nobody). A
// default LockView is a PRIMARY_KEY that does not exist (a new cluster, or
// Consul lost its state).
inline LockView FreeAfter(const std::string& last_holder) {
  LockView v;
  v.present = true;
  v.value = last_holder;
  return v;
}

}  // namespace manage::cluster
