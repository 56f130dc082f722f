#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consul/codec.h"
#include "consul/consul.h"
#include "http/transport.h"

namespace manage::consul {

namespace {

constexpr size_t kMaxBodyInMessage = 300;

bool IsSuccess(const http::Response& r) { return r.status >= 200 && r.status < 300; }

std::string BodyText(std::string_view body) {
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) {
    body.remove_suffix(1);
  }
  if (body.size() <= kMaxBodyInMessage) return std::string(body);
  return std::string(body.substr(0, kMaxBodyInMessage)) + "...";
}

bool BodyContains(std::string_view body, std::string_view needle) {
  return std::search(body.begin(), body.end(), needle.begin(), needle.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         }) != body.end();
}

// Maps a response that is not 2xx to a Status; `what` names the operation.
Status HttpError(const http::Response& r, const std::string& what) {
  std::string msg = what + ": HTTP " + std::to_string(r.status);
  const std::string body = BodyText(r.body);
  if (!body.empty()) msg += ": " + body;
  if (r.status >= 500 || r.status == 429) return Status::Unavailable(msg);
  switch (r.status) {
    case 400:
    case 413:
      return Status::InvalidArgument(msg);
    case 401:
    case 403:
      return Status::FailedPrecondition(msg + " (check CONSUL_HTTP_TOKEN)");
    case 404:
      return Status::NotFound(msg);
    case 409:
      return Status::Aborted(msg);
    default:
      return Status::Internal("unexpected response to " + msg);
  }
}

std::string KeyPath(const std::string& key) { return "/v1/kv/" + http::UrlEncode(key, true); }

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

Status RequireNonEmpty(const std::string& value, const char* what) {
  if (!value.empty()) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " must not be empty");
}

Result<http::Response> Send(http::HttpTransport* transport, const ConsulAddress& address,
                            const char* method, const std::string& path, std::string body,
                            const std::string& what) {
  http::Request request;
  request.method = method;
  request.url = address.base_url + path;
  request.body = std::move(body);
  request.timeout = address.timeout;
  if (!address.token.empty()) request.headers.emplace_back("X-Consul-Token", address.token);
  Result<http::Response> response = transport->Send(request);
  if (!response.ok()) return response.status().Annotate("Consul " + what);
  return response;
}

// A successful response whose body is `true` or `false`.
Result<bool> BoolResponse(const Result<http::Response>& r, const std::string& what) {
  if (!r.ok()) return r.status();
  if (!IsSuccess(*r)) return HttpError(*r, what);
  Result<bool> answer = ParseBool(r->body);
  if (!answer.ok()) return answer.status().Annotate(what);
  return answer;
}

}  // namespace

HttpConsul::HttpConsul(http::HttpTransport* transport, ConsulAddress address)
    : transport_(transport), address_(std::move(address)) {}

HttpConsul::HttpConsul(std::unique_ptr<http::HttpTransport> transport, ConsulAddress address)
    : owned_(std::move(transport)), transport_(owned_.get()), address_(std::move(address)) {}

Status HttpConsul::Txn(const std::vector<TxnOp>& ops) {
  if (ops.empty()) return Status::InvalidArgument("a transaction needs at least one operation");
  const std::string what = "transaction on key " + Quoted(ops.front().key);
  Result<http::Response> r = Send(transport_, address_, "PUT", "/v1/txn", TxnBody(ops), what);
  if (!r.ok()) return r.status();
  if (r->status == 409) {
    Result<std::vector<std::string>> errors = ParseTxnErrors(r->body);
    if (!errors.ok()) return errors.status().Annotate(what);
    std::string joined;
    for (const std::string& e : *errors) joined += (joined.empty() ? "" : "; ") + e;
    return Status::Aborted(what + " rolled back: " + joined);
  }
  if (!IsSuccess(*r)) return HttpError(*r, what);
  return Status::Ok();
}

Result<std::string> HttpConsul::CreateSession(const SessionSpec& spec) {
  MANAGE_RETURN_IF_ERROR(ValidateSessionSpec(spec));
  const std::string what = "create session " + Quoted(spec.name);
  Result<http::Response> r =
      Send(transport_, address_, "PUT", "/v1/session/create", SessionCreateBody(spec), what);
  if (!r.ok()) return r.status();
  // Consul answers 500 when a tied check is critical or missing; only a lost
  // leader is worth retrying.
  if (r->status == 500 && !BodyContains(r->body, "No cluster leader")) {
    return Status::FailedPrecondition(what + ": " + BodyText(r->body));
  }
  if (!IsSuccess(*r)) return HttpError(*r, what);
  Result<std::string> id = ParseSessionId(r->body);
  if (!id.ok()) return id.status().Annotate(what);
  return id;
}

Status HttpConsul::RenewSession(const std::string& id) {
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(id, "session ID"));
  const std::string what = "renew session " + Quoted(id);
  Result<http::Response> r =
      Send(transport_, address_, "PUT", "/v1/session/renew/" + http::UrlEncode(id), "", what);
  if (!r.ok()) return r.status();
  if (!IsSuccess(*r)) return HttpError(*r, what);
  return Status::Ok();
}

Status HttpConsul::DestroySession(const std::string& id) {
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(id, "session ID"));
  const std::string what = "destroy session " + Quoted(id);
  Result<http::Response> r =
      Send(transport_, address_, "PUT", "/v1/session/destroy/" + http::UrlEncode(id), "", what);
  if (!r.ok()) return r.status();
  if (!IsSuccess(*r)) return HttpError(*r, what);
  return Status::Ok();
}

Result<KvPair> HttpConsul::Get(const std::string& key) {
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(key, "key"));
  const std::string what = "get key " + Quoted(key);
  Result<http::Response> r = Send(transport_, address_, "GET", KeyPath(key), "", what);
  if (!r.ok()) return r.status();
  if (r->status == 404) return Status::NotFound(what + ": no such key");
  if (!IsSuccess(*r)) return HttpError(*r, what);
  Result<std::vector<KvPair>> pairs = ParseKvPairs(r->body);
  if (!pairs.ok()) return pairs.status().Annotate(what);
  if (pairs->empty()) return Status::NotFound(what + ": no such key");
  return std::move(pairs->front());
}

Result<std::vector<KvPair>> HttpConsul::List(const std::string& prefix) {
  const std::string what = "list prefix " + Quoted(prefix);
  Result<http::Response> r =
      Send(transport_, address_, "GET", KeyPath(prefix) + "?recurse", "", what);
  if (!r.ok()) return r.status();
  if (r->status == 404) return std::vector<KvPair>{};
  if (!IsSuccess(*r)) return HttpError(*r, what);
  Result<std::vector<KvPair>> pairs = ParseKvPairs(r->body);
  if (!pairs.ok()) return pairs.status().Annotate(what);
  std::sort(pairs->begin(), pairs->end(),
            [](const KvPair& a, const KvPair& b) { return a.key < b.key; });
  return pairs;
}

Status HttpConsul::Put(const std::string& key, const std::string& value) {
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(key, "key"));
  const std::string what = "put key " + Quoted(key);
  Result<bool> written =
      BoolResponse(Send(transport_, address_, "PUT", KeyPath(key), value, what), what);
  if (!written.ok()) return written.status();
  if (!*written) return Status::Aborted(what + ": Consul refused the write");
  return Status::Ok();
}

Result<bool> HttpConsul::CheckAndSet(const std::string& key, const std::string& value,
                                     uint64_t index) {
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(key, "key"));
  const std::string what = "check-and-set key " + Quoted(key);
  const std::string path = KeyPath(key) + "?cas=" + std::to_string(index);
  return BoolResponse(Send(transport_, address_, "PUT", path, value, what), what);
}

Result<bool> HttpConsul::Acquire(const std::string& key, const std::string& session,
                                 const std::string& value) {
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(key, "key"));
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(session, "session ID"));
  const std::string what = "acquire key " + Quoted(key) + " for session " + Quoted(session);
  const std::string path = KeyPath(key) + "?acquire=" + http::UrlEncode(session);
  Result<http::Response> r = Send(transport_, address_, "PUT", path, value, what);
  // Consul answers 500 "Invalid session" when the session no longer exists.
  if (r.ok() && r->status == 500 && BodyContains(r->body, "invalid session")) {
    return Status::NotFound(what + ": " + BodyText(r->body));
  }
  return BoolResponse(r, what);
}

Result<bool> HttpConsul::Release(const std::string& key, const std::string& session,
                                 const std::string& value) {
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(key, "key"));
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(session, "session ID"));
  const std::string what = "release key " + Quoted(key) + " for session " + Quoted(session);
  const std::string path = KeyPath(key) + "?release=" + http::UrlEncode(session);
  return BoolResponse(Send(transport_, address_, "PUT", path, value, what), what);
}

Status HttpConsul::Delete(const std::string& key) {
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(key, "key"));
  const std::string what = "delete key " + Quoted(key);
  Result<http::Response> r = Send(transport_, address_, "DELETE", KeyPath(key), "", what);
  if (!r.ok()) return r.status();
  if (!IsSuccess(*r)) return HttpError(*r, what);
  return Status::Ok();
}

Result<std::vector<ServiceInstance>> HttpConsul::Health(const std::string& service,
                                                        bool passing_only) {
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(service, "service name"));
  const std::string what = "health of service " + Quoted(service);
  std::string path = "/v1/health/service/" + http::UrlEncode(service);
  if (passing_only) path += "?passing=1";
  Result<http::Response> r = Send(transport_, address_, "GET", path, "", what);
  if (!r.ok()) return r.status();
  if (!IsSuccess(*r)) return HttpError(*r, what);
  Result<std::vector<ServiceInstance>> instances = ParseHealth(r->body);
  if (!instances.ok()) return instances.status().Annotate(what);
  return instances;
}

Status HttpConsul::RegisterAgentService(const ServiceRegistration& service) {
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(service.name, "service name"));
  const std::string what = "register service " + Quoted(service.id);
  Result<http::Response> r = Send(transport_, address_, "PUT", "/v1/agent/service/register",
                                  ServiceRegisterBody(service), what);
  if (!r.ok()) return r.status();
  if (!IsSuccess(*r)) return HttpError(*r, what);
  return Status::Ok();
}

Status HttpConsul::UpdateTtlCheck(const std::string& check_id, const std::string& status,
                                  const std::string& output) {
  MANAGE_RETURN_IF_ERROR(RequireNonEmpty(check_id, "check ID"));
  const std::string what = "update check " + Quoted(check_id);
  // The ID goes into the path as ContainerPilot sends it ("service:<id>"):
  // ':' is allowed in a path segment.
  std::string path = "/v1/agent/check/update/" + http::UrlEncode(check_id);
  for (size_t at = path.find("%3A"); at != std::string::npos; at = path.find("%3A", at)) {
    path.replace(at, 3, ":");
  }
  Result<http::Response> r =
      Send(transport_, address_, "PUT", path, CheckUpdateBody(status, output), what);
  if (!r.ok()) return r.status();
  // consul: agent.go updateTTLCheck, for a check the agent does not have.
  if (r->status == 500 && BodyContains(r->body, "does not have associated TTL")) {
    return Status::NotFound(what + ": " + BodyText(r->body));
  }
  if (!IsSuccess(*r)) return HttpError(*r, what);
  return Status::Ok();
}

}  // namespace manage::consul
