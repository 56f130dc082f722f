#include "consul/address.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

namespace manage::consul {
namespace {

using Env = std::map<std::string, std::string>;

TEST_CASE("ResolveConsulAddress picks the agent from the environment", "[consul]") {
  struct Row {
    Env env;
    std::string want_url;
  };
  const Row rows[] = {
      {{}, "http://consul:8500"},
      {{{"CONSUL", ""}}, "http://consul:8500"},
      {{{"CONSUL", "consul.svc"}}, "http://consul.svc:8500"},
      {{{"CONSUL", "10.0.0.9:8600"}}, "http://10.0.0.9:8600"},
      {{{"CONSUL", "[fd00::1]:8500"}}, "http://[fd00::1]:8500"},
      {{{"CONSUL", "[fd00::1]"}}, "http://[fd00::1]:8500"},
      {{{"CONSUL", "consul"}, {"CONSUL_AGENT", "1"}}, "http://localhost:8500"},
      {{{"CONSUL_AGENT", "yes"}}, "http://localhost:8500"},
      {{{"CONSUL_AGENT", "TRUE"}}, "http://localhost:8500"},
      {{{"CONSUL", "consul.svc"}, {"CONSUL_AGENT", "0"}}, "http://consul.svc:8500"},
      {{{"CONSUL", "consul.svc"}, {"CONSUL_AGENT", "false"}}, "http://consul.svc:8500"},
      {{{"CONSUL_HTTP_ADDR", "127.0.0.1:8500"}, {"CONSUL", "x"}, {"CONSUL_AGENT", "1"}},
       "http://127.0.0.1:8500"},
      {{{"CONSUL_HTTP_ADDR", "agent"}}, "http://agent:8500"},
      {{{"CONSUL_HTTP_ADDR", "http://agent:18500"}}, "http://agent:18500"},
      {{{"CONSUL_HTTP_ADDR", "http://agent:18500/"}}, "http://agent:18500"},
      {{{"CONSUL_HTTP_ADDR", "https://agent:8501"}}, "https://agent:8501"},
      {{{"CONSUL_HTTP_ADDR", "HTTPS://agent"}}, "https://agent:8500"},
      {{{"CONSUL_HTTP_ADDR", "agent:8501"}, {"CONSUL_HTTP_SSL", "true"}}, "https://agent:8501"},
      {{{"CONSUL_HTTP_ADDR", "http://agent:8501"}, {"CONSUL_HTTP_SSL", "true"}},
       "https://agent:8501"},
      {{{"CONSUL_HTTP_ADDR", "https://agent:8501"}, {"CONSUL_HTTP_SSL", "false"}},
       "https://agent:8501"},
      {{{"CONSUL", "consul"}, {"CONSUL_HTTP_SSL", "1"}}, "https://consul:8500"},
      {{{"CONSUL_AGENT", "1"}, {"CONSUL_HTTP_SSL", "true"}}, "https://localhost:8500"},
  };
  for (const Row& row : rows) {
    std::string env_text;
    for (const auto& [k, v] : row.env) env_text += k + "=" + v + " ";
    INFO("env: " << env_text);
    Result<ConsulAddress> address = ResolveConsulAddress(row.env);
    REQUIRE(address.ok());
    CHECK(address->base_url == row.want_url);
  }
}

TEST_CASE("ResolveConsulAddress reads the token and TLS options", "[consul]") {
  Result<ConsulAddress> plain = ResolveConsulAddress({});
  REQUIRE(plain.ok());
  CHECK(plain->token.empty());
  CHECK(plain->tls.ca_file.empty());
  CHECK(plain->tls.verify);

  Result<ConsulAddress> full = ResolveConsulAddress({{"CONSUL_HTTP_TOKEN", "tok"},
                                                     {"CONSUL_CACERT", "/etc/ca.pem"},
                                                     {"CONSUL_CLIENT_CERT", "/etc/cert.pem"},
                                                     {"CONSUL_CLIENT_KEY", "/etc/key.pem"},
                                                     {"CONSUL_HTTP_SSL_VERIFY", "false"}});
  REQUIRE(full.ok());
  CHECK(full->token == "tok");
  CHECK(full->tls.ca_file == "/etc/ca.pem");
  CHECK(full->tls.cert_file == "/etc/cert.pem");
  CHECK(full->tls.key_file == "/etc/key.pem");
  CHECK_FALSE(full->tls.verify);
}

TEST_CASE("ResolveConsulAddress rejects bad settings, naming the variable", "[consul]") {
  struct Row {
    Env env;
    std::string want_message;
  };
  const Row rows[] = {
      {{{"CONSUL_HTTP_ADDR", "unix:///var/run/consul.sock"}},
       "CONSUL_HTTP_ADDR: unix sockets are not supported"},
      {{{"CONSUL_HTTP_ADDR", "ftp://agent"}}, "CONSUL_HTTP_ADDR: unsupported scheme 'ftp'"},
      {{{"CONSUL_HTTP_ADDR", "http://"}}, "CONSUL_HTTP_ADDR: empty host"},
      {{{"CONSUL_HTTP_ADDR", ":8500"}}, "CONSUL_HTTP_ADDR: empty host"},
      {{{"CONSUL_HTTP_ADDR", "agent:"}}, "CONSUL_HTTP_ADDR: invalid port ''"},
      {{{"CONSUL_HTTP_ADDR", "agent:0"}}, "CONSUL_HTTP_ADDR: invalid port '0'"},
      {{{"CONSUL_HTTP_ADDR", "agent:65536"}}, "CONSUL_HTTP_ADDR: invalid port '65536'"},
      {{{"CONSUL_HTTP_ADDR", "agent:85OO"}}, "CONSUL_HTTP_ADDR: invalid port '85OO'"},
      {{{"CONSUL_HTTP_ADDR", "agent:-1"}}, "CONSUL_HTTP_ADDR: invalid port '-1'"},
      {{{"CONSUL_HTTP_ADDR", "http://agent:8500/v1"}}, "CONSUL_HTTP_ADDR: invalid port"},
      {{{"CONSUL_HTTP_ADDR", "http://user@agent"}}, "CONSUL_HTTP_ADDR: invalid host"},
      {{{"CONSUL_HTTP_ADDR", "[fd00::1"}}, "CONSUL_HTTP_ADDR: unterminated '['"},
      {{{"CONSUL_HTTP_ADDR", "[fd00::1]8500"}}, "CONSUL_HTTP_ADDR: unexpected text after ']'"},
      {{{"CONSUL_HTTP_ADDR", "fd00::1"}}, "CONSUL_HTTP_ADDR: invalid host"},
      {{{"CONSUL", "consul:99999"}}, "CONSUL: invalid port '99999'"},
      {{{"CONSUL", ":8500"}}, "CONSUL: empty host"},
      {{{"CONSUL_AGENT", "maybe"}}, "CONSUL_AGENT: expected true or false"},
      {{{"CONSUL_HTTP_SSL", "sure"}}, "CONSUL_HTTP_SSL: expected true or false"},
      {{{"CONSUL_HTTP_SSL_VERIFY", "nah"}}, "CONSUL_HTTP_SSL_VERIFY: expected true or false"},
  };
  for (const Row& row : rows) {
    INFO("env: " << row.env.begin()->first << "=" << row.env.begin()->second);
    Result<ConsulAddress> address = ResolveConsulAddress(row.env);
    REQUIRE_FALSE(address.ok());
    CHECK(address.status().code() == Code::kInvalidArgument);
    INFO("message: " << address.status().message());
    CHECK(address.status().message().find(row.want_message) != std::string::npos);
  }
}

}  // namespace
}  // namespace manage::consul
