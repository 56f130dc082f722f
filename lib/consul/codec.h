// Pure conversions between Consul's HTTP bodies and the structs in consul.h,
// shared by HttpConsul and the in-memory fake. Every parser checks each JSON
// value's type before reading it and fails with Internal naming the field.
// Stateless; safe to call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "consul/consul.h"
#include "core/status.h"

namespace manage::consul {

// Consul's limits on a session TTL (0 means none).
inline constexpr std::chrono::seconds kMinSessionTtl{10};
inline constexpr std::chrono::seconds kMaxSessionTtl{86400};

// Standard base64 (RFC 4648), padding optional. InvalidArgument on any other
// character or a truncated final group.
Result<std::string> Base64Decode(std::string_view in);

// InvalidArgument when Consul would refuse the spec: a behavior other than
// "release"/"delete", a TTL outside [10s, 24h] (0 allowed), a negative lock-delay.
Status ValidateSessionSpec(const SessionSpec& spec);

// The body of PUT /v1/session/create: {"Name","TTL","Behavior","LockDelay",...},
// TTL left out when 0, and the checks as {"Checks":[...]} when they include
// serfHealth or are empty, nothing when std::nullopt. Consul (1.7 and later)
// adds its default NodeChecks ["serfHealth"] to any Checks list, and an empty
// NodeChecks empties Checks too (agent/session_endpoint.go
// fixupEmptySessionChecks): so checks without serfHealth are sent as
// {"NodeChecks":[],"ServiceChecks":[{"ID":...},...]}.
std::string SessionCreateBody(const SessionSpec& spec);

// The body of PUT /v1/txn: [{"KV":{"Verb","Key","Value" (base64),"Session","Index"}}].
std::string TxnBody(const std::vector<TxnOp>& ops);

// The body of PUT /v1/agent/service/register exactly as ContainerPilot 3 sends
// it (the field order of Consul's Go API structs, empty fields left out):
// {"ID","Name","Tags","Port","Address","Check":{"TTL","Status","Notes"},"Checks":null}.
std::string ServiceRegisterBody(const ServiceRegistration& service);

// The body of PUT /v1/agent/check/update/<id>: {"Status","Output"}.
std::string CheckUpdateBody(const std::string& status, const std::string& output);

// The following fail with Internal "malformed JSON from Consul: ..." when the body
// is not JSON, and Internal naming the field when a value has the wrong type.

// {"ID": "<uuid>"} from session create.
Result<std::string> ParseSessionId(std::string_view body);
// `true` or `false`, as KV writes answer.
Result<bool> ParseBool(std::string_view body);
// The array GET /v1/kv/<key>[?recurse] returns; Value decoded (null: empty).
Result<std::vector<KvPair>> ParseKvPairs(std::string_view body);
// The reasons of a failed transaction (409): {"Errors":[{"OpIndex","What"}]},
// each as "op <OpIndex>: <What>".
Result<std::vector<std::string>> ParseTxnErrors(std::string_view body);
// The array GET /v1/health/service/<name> returns.
Result<std::vector<ServiceInstance>> ParseHealth(std::string_view body);

}  // namespace manage::consul
