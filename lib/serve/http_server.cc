#include "serve/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

#include "sys/dynamic_library.h"

namespace manage::serve {
namespace {

constexpr char kLibrary[] = "libmicrohttpd.so.12";

// libmicrohttpd's functions, resolved once per process.
struct MhdApi {
  decltype(&MHD_start_daemon) start_daemon;
  decltype(&MHD_stop_daemon) stop_daemon;
  decltype(&MHD_get_daemon_info) get_daemon_info;
  decltype(&MHD_get_connection_values) get_connection_values;
  decltype(&MHD_create_response_from_buffer) create_response_from_buffer;
  decltype(&MHD_add_response_header) add_response_header;
  decltype(&MHD_queue_response) queue_response;
  decltype(&MHD_destroy_response) destroy_response;
};

Result<const MhdApi*> Load() {
  auto lib =
      sys::DynamicLibrary::Open(kLibrary, "install libmicrohttpd12, needed by `manage serve`");
  if (!lib.ok()) return lib.status();
  static MhdApi api;  // written once, under the call_once in LoadMhd
  lib->Bind("MHD_start_daemon", &api.start_daemon);
  lib->Bind("MHD_stop_daemon", &api.stop_daemon);
  lib->Bind("MHD_get_daemon_info", &api.get_daemon_info);
  lib->Bind("MHD_get_connection_values", &api.get_connection_values);
  lib->Bind("MHD_create_response_from_buffer", &api.create_response_from_buffer);
  lib->Bind("MHD_add_response_header", &api.add_response_header);
  lib->Bind("MHD_queue_response", &api.queue_response);
  lib->Bind("MHD_destroy_response", &api.destroy_response);
  MANAGE_RETURN_IF_ERROR(lib->Complete("libmicrohttpd 0.9.71 or newer is needed"));
  return &api;
}

Result<const MhdApi*> LoadMhd() {
  static std::once_flag once;
  static Result<const MhdApi*> loaded = Status::Internal("libmicrohttpd not loaded");
  std::call_once(once, [] { loaded = Load(); });
  return loaded;
}

// A numeric address as a socket address.
struct SocketAddress {
  sockaddr_storage storage{};
  bool ipv6 = false;
};

Result<SocketAddress> ParseAddress(const std::string& address, int port) {
  SocketAddress out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
  } else if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    out.ipv6 = true;
  } else {
    return Status::InvalidArgument("SERVE_ADDRESS: '" + address +
                                   "' is not a numeric IPv4 or IPv6 address");
  }
  return out;
}

}  // namespace

struct HttpServer::Impl {
  const MhdApi* api = nullptr;
  MHD_Daemon* daemon = nullptr;
  Handler handler;
  Logger log = Logger(nullptr, LogLevel::kError,
                      false);  // used on the server's thread only (and during Start)
  std::string last_error;

  static void OnLog(void* cls, const char* format, va_list ap) {
    auto* self = static_cast<Impl*>(cls);
    char line[512];
    std::vsnprintf(line, sizeof line, format, ap);
    std::string text = line;
    for (char& c : text) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    self->last_error = text;
    // Clients cause most of these (malformed requests, limits reached):
    // never worth more than a debug line each.
    self->log.Debug("http server", {{"detail", text}});
  }

  static MHD_Result OnArgument(void* cls, MHD_ValueKind, const char* key, const char* value) {
    auto* query = static_cast<std::vector<std::pair<std::string, std::string>>*>(cls);
    query->emplace_back(key != nullptr ? key : "", value != nullptr ? value : "");
    return MHD_YES;
  }

  // Called when the request line and headers are in (request_state still
  // null), then for each piece of a body, then once more at its end. Only
  // that last call answers (an answer queued earlier makes libmicrohttpd
  // close the connection instead of keeping it alive). No endpoint takes a
  // body: at its first byte the connection is closed.
  static MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url,
                              const char* method, const char*, const char*,
                              size_t* upload_data_size, void** request_state) {
    auto* self = static_cast<Impl*>(cls);
    if (*request_state == nullptr) {
      *request_state = self;
      return MHD_YES;
    }
    if (*upload_data_size != 0) return MHD_NO;  // a body: close the connection
    Request request;
    request.method = method != nullptr ? method : "";
    request.path = url != nullptr ? url : "";
    self->api->get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &Impl::OnArgument,
                                     &request.query);
    return self->Queue(connection, self->handler(request));
  }

  MHD_Result Queue(MHD_Connection* connection, const Response& response) {
    MHD_Response* r = api->create_response_from_buffer(
        response.body.size(), const_cast<char*>(response.body.data()), MHD_RESPMEM_MUST_COPY);
    if (r == nullptr) return MHD_NO;
    api->add_response_header(r, "Content-Type", response.content_type.c_str());
    api->add_response_header(r, "Cache-Control", "no-store");
    for (const auto& [name, value] : response.headers) {
      api->add_response_header(r, name.c_str(), value.c_str());
    }
    MHD_Result queued = api->queue_response(connection, static_cast<unsigned>(response.status), r);
    api->destroy_response(r);
    return queued;
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}

HttpServer::~HttpServer() {
  if (impl_ && impl_->daemon != nullptr) impl_->api->stop_daemon(impl_->daemon);
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address, int port,
                                                      const ServerLimits& limits, Handler handler,
                                                      Logger log) {
  auto sock = ParseAddress(address, port);
  if (!sock.ok()) return sock.status();
  auto api = LoadMhd();
  if (!api.ok()) return api.status();
  auto impl = std::make_unique<Impl>();
  impl->api = *api;
  impl->handler = std::move(handler);
  impl->log = std::move(log);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  if (sock->ipv6) flags |= MHD_USE_IPv6;
  Impl* self = impl.get();
  impl->daemon = impl->api->start_daemon(
      flags, static_cast<uint16_t>(port), nullptr, nullptr, &Impl::OnRequest, self,
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&sock->storage),
      MHD_OPTION_CONNECTION_LIMIT, limits.connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
      limits.per_client, MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits.memory,
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(limits.idle_timeout.count()),
      MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_EXTERNAL_LOGGER, &Impl::OnLog, self,
      MHD_OPTION_END);
  if (impl->daemon == nullptr) {
    return Status::Unavailable("cannot serve HTTP on " + address + ":" + std::to_string(port) +
                               (impl->last_error.empty() ? "" : ": " + impl->last_error));
  }
  const MHD_DaemonInfo* info = impl->api->get_daemon_info(impl->daemon, MHD_DAEMON_INFO_BIND_PORT);
  int bound = info != nullptr && info->port != 0 ? info->port : port;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl), bound));
}

}  // namespace manage::serve
