#include "consul/address.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace manage::consul {

namespace {

constexpr int kDefaultPort = 8500;

struct Endpoint {
  std::string scheme;  // empty when the text had none
  std::string host;
  int port = kDefaultPort;
};

std::string Lookup(const std::map<std::string, std::string>& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Unset or empty gives `fallback`.
Result<bool> Flag(const std::map<std::string, std::string>& env, const std::string& name,
                  bool fallback) {
  const std::string value = Lower(Lookup(env, name));
  if (value.empty()) return fallback;
  if (value == "1" || value == "yes" || value == "true" || value == "on") return true;
  if (value == "0" || value == "no" || value == "false" || value == "off") return false;
  return Status::InvalidArgument(name + ": expected true or false, got '" + value + "'");
}

Result<int> ParsePort(std::string_view text, const std::string& var) {
  const auto bad = [&] {
    return Status::InvalidArgument(var + ": invalid port '" + std::string(text) + "'");
  };
  if (text.empty() || text.size() > 5) return bad();
  int port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad();
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return bad();
  return port;
}

// Splits "host", "host:port", "[v6]" or "[v6]:port".
Status SplitHostPort(std::string_view text, const std::string& var, Endpoint* out) {
  std::string_view host = text;
  std::string_view port;
  bool has_port = false;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument(var + ": unterminated '[' in '" + std::string(text) + "'");
    }
    host = text.substr(0, close + 1);
    const std::string_view rest = text.substr(close + 1);
    has_port = !rest.empty();
    if (has_port && rest[0] != ':') {
      return Status::InvalidArgument(var + ": unexpected text after ']' in '" + std::string(text) +
                                     "'");
    }
    if (has_port) port = rest.substr(1);
  } else if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    has_port = true;
  }
  if (host.empty() || host == "[]") {
    return Status::InvalidArgument(var + ": empty host in '" + std::string(text) + "'");
  }
  if (host.find_first_of("/@?#: \t") != std::string_view::npos && !host.starts_with('[')) {
    return Status::InvalidArgument(var + ": invalid host '" + std::string(host) + "'");
  }
  out->host = std::string(host);
  if (!has_port) return Status::Ok();
  Result<int> parsed = ParsePort(port, var);
  if (!parsed.ok()) return parsed.status();
  out->port = *parsed;
  return Status::Ok();
}

// Parses "[scheme://]host[:port][/]" where scheme is http or https.
Result<Endpoint> ParseEndpoint(std::string_view text, const std::string& var) {
  Endpoint endpoint;
  if (const size_t sep = text.find("://"); sep != std::string_view::npos) {
    endpoint.scheme = Lower(std::string(text.substr(0, sep)));
    if (endpoint.scheme == "unix") {
      return Status::InvalidArgument(var + ": unix sockets are not supported");
    }
    if (endpoint.scheme != "http" && endpoint.scheme != "https") {
      return Status::InvalidArgument(var + ": unsupported scheme '" + endpoint.scheme + "'");
    }
    text.remove_prefix(sep + 3);
  }
  if (text.ends_with('/')) text.remove_suffix(1);
  MANAGE_RETURN_IF_ERROR(SplitHostPort(text, var, &endpoint));
  return endpoint;
}

Result<Endpoint> ChooseEndpoint(const std::map<std::string, std::string>& env) {
  if (const std::string addr = Lookup(env, "CONSUL_HTTP_ADDR"); !addr.empty()) {
    return ParseEndpoint(addr, "CONSUL_HTTP_ADDR");
  }
  Result<bool> agent = Flag(env, "CONSUL_AGENT", false);
  if (!agent.ok()) return agent.status();
  if (*agent) return Endpoint{"", "localhost", kDefaultPort};
  const std::string consul = Lookup(env, "CONSUL");
  return ParseEndpoint(consul.empty() ? "consul" : consul, "CONSUL");
}

}  // namespace

Result<ConsulAddress> ResolveConsulAddress(const std::map<std::string, std::string>& env) {
  Result<Endpoint> endpoint = ChooseEndpoint(env);
  if (!endpoint.ok()) return endpoint.status();
  Result<bool> ssl = Flag(env, "CONSUL_HTTP_SSL", false);
  if (!ssl.ok()) return ssl.status();
  Result<bool> verify = Flag(env, "CONSUL_HTTP_SSL_VERIFY", true);
  if (!verify.ok()) return verify.status();

  std::string scheme = endpoint->scheme.empty() ? "http" : endpoint->scheme;
  if (*ssl) scheme = "https";
  ConsulAddress address;
  address.base_url = scheme + "://" + endpoint->host + ":" + std::to_string(endpoint->port);
  address.token = Lookup(env, "CONSUL_HTTP_TOKEN");
  address.tls.ca_file = Lookup(env, "CONSUL_CACERT");
  address.tls.cert_file = Lookup(env, "CONSUL_CLIENT_CERT");
  address.tls.key_file = Lookup(env, "CONSUL_CLIENT_KEY");
  address.tls.verify = *verify;
  return address;
}

}  // namespace manage::consul
