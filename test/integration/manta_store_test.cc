// MantaStore against the Manta double (test/doubles/manta), which verifies
// every request's signature with Joyent's http-signature: each key format
// authenticates, a wrong key is refused, sub-users and roles, every fault
// gives one clear error with nothing partial visible, and TLS. The CTest
// fixture manta_double starts two doubles (plain HTTP with an 8 MiB limit on
// streamed uploads, and HTTPS with a self-signed certificate) and writes
// their URLs into $MANTA_DOUBLE_DIR.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "http/transport.h"
#include "storage/open_store.h"
#include "sys/clock.h"
#include "unit/storage/object_store_util.h"

namespace manage::storage {
namespace {

namespace fs = std::filesystem;

std::string DoubleDir() {
  const char* dir = std::getenv("MANTA_DOUBLE_DIR");
  REQUIRE(dir != nullptr);
  return dir;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Url(const std::string& which) {
  std::string url = ReadFile(DoubleDir() + "/" + which + ".url");
  while (!url.empty() && std::isspace(static_cast<unsigned char>(url.back()))) url.pop_back();
  REQUIRE(!url.empty());
  return url;
}

std::string Key(const std::string& name) {
  return ReadFile(std::string(MANAGE_TEST_DATA_DIR) + "/manta-keys/" + name);
}

// The double's test control API.
struct Control {
  std::unique_ptr<http::CurlTransport> http = *http::CurlTransport::Create();
  std::string url = Url("plain");

  void Faults(const std::string& json) {
    http::Request r;
    r.method = "PUT";
    r.url = url + "/.double/faults";
    r.body = json;
    auto response = http->Send(r);
    REQUIRE(response.ok());
    REQUIRE(response->status == 204);
  }
  std::string Log() {
    http::Request r;
    r.url = url + "/.double/log";
    auto response = http->Send(r);
    REQUIRE(response.ok());
    return response->body;
  }
  void ClearLog() {
    http::Request r;
    r.method = "DELETE";
    r.url = url + "/.double/log";
    REQUIRE(http->Send(r).ok());
  }
};

struct Opened {
  sys::RealClock clock;
  std::atomic<bool> cancel{false};
  std::unique_ptr<ObjectStore> store;
  Status status;
};

// The store `settings` name, opened the way manage's wiring opens it.
std::unique_ptr<Opened> Open(MantaSettings manta, const std::string& prefix = "") {
  auto o = std::make_unique<Opened>();
  StoreSettings s;
  s.backend = "manta";
  s.prefix = prefix;
  s.manta = std::move(manta);
  StoreContext context;
  context.clock = &o->clock;
  context.cancel = &o->cancel;
  context.retry.first_delay = std::chrono::milliseconds(20);
  context.retry.max_delay = std::chrono::milliseconds(200);
  auto store = OpenStore(s, context);
  if (store.ok()) {
    o->store = std::move(*store);
  } else {
    o->status = store.status();
  }
  return o;
}

MantaSettings Settings(const std::string& key, const std::string& bucket,
                       const std::string& url = Url("plain")) {
  MantaSettings m;
  m.url = url;
  m.user = "manage";
  m.private_key = Key(key);
  m.directory = bucket;
  return m;
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

Status WriteObject(ObjectStore& store, const std::string& name, const std::string& data,
                   const std::function<void(size_t)>& before_chunk = nullptr) {
  auto writer = store.Create(name);
  if (!writer.ok()) return writer.status();
  constexpr size_t kChunk = 64 * 1024;
  for (size_t at = 0; at < data.size(); at += kChunk) {
    if (before_chunk) before_chunk(at);
    MANAGE_RETURN_IF_ERROR((*writer)->Write(std::string_view(data).substr(at, kChunk)));
  }
  return (*writer)->Commit();
}

// Uploads are streamed into the double's tmp directory until they complete;
// an abandoned one is removed once the double sees its connection close,
// which may be a moment after the client gave up.
bool NoUploadLeftBehind() {
  for (int i = 0; i < 50; ++i) {
    if (fs::is_empty(DoubleDir() + "/plain/tmp")) return true;
    usleep(100 * 1000);
  }
  return false;
}

TEST_CASE("RSA and ECDSA keys in PEM and OpenSSH formats authenticate; objects round-trip") {
  Control control;
  const std::string data = RandomBytes(3 * 1024 * 1024 + 17, 1);
  for (const char* key : {"rsa", "rsa.pkcs1.pem", "rsa.pkcs8.pem", "ecdsa256", "ecdsa256.sec1.pem",
                          "ecdsa384", "ecdsa384.pkcs8.pem", "ecdsa521", "ecdsa521.sec1.pem"}) {
    INFO(key);
    // A bucket that does not exist yet, and a prefix below it: both made.
    auto o = Open(Settings(key, std::string("/manage/stor/interop/") + key), "cluster/one");
    REQUIRE(o->status.ok());
    CHECK(o->store->Location() ==
          std::string("manta:/manage/stor/interop/") + key + "/cluster/one");
    CHECK(Names(*o->store).empty());
    REQUIRE(WriteObject(*o->store, "snap-1", data).ok());
    CHECK(Names(*o->store) == std::vector<std::string>{"snap-1"});
    auto info = o->store->Stat("snap-1");
    REQUIRE(info.ok());
    CHECK(info->size == data.size());
    auto back = ReadAll(*o->store, "snap-1");
    REQUIRE(back.ok());
    CHECK(*back == data);
    REQUIRE(o->store->Remove("snap-1").ok());
    CHECK(Names(*o->store).empty());
  }
  // Each upload was one chunked PUT, signed with its key.
  const std::string log = control.Log();
  CHECK_THAT(log, Catch::Contains("\"method\":\"PUT\",\"path\":\"/manage/stor/interop/"
                                  "ecdsa521.sec1.pem/cluster/one/snap-1\",\"status\":204,"
                                  "\"outcome\":null,\"keyId\":\"/manage/keys/b3:b7"));
  size_t chunked_puts = 0;
  for (size_t at = 0; (at = log.find("\"chunked\":true,\"bytes\":3145745", at)) != log.npos; ++at) {
    ++chunked_puts;
  }
  CHECK(chunked_puts == 9);
}

TEST_CASE("a key Manta does not know is refused with Manta's 403") {
  auto o = Open(Settings("other-rsa", "/manage/stor/refused"));
  REQUIRE(o->status.ok());
  auto writer = o->store->Create("snap");
  REQUIRE_FALSE(writer.ok());
  std::cout << "wrong key: " << writer.status().ToString() << "\n";
  CHECK(writer.status().code() == Code::kFailedPrecondition);
  CHECK_THAT(writer.status().message(), Catch::Contains("HTTP 403 KeyDoesNotExist"));
  CHECK_THAT(writer.status().message(), Catch::Contains("MANTA_KEY_ID"));
  CHECK(o->store->List("").status().code() == Code::kFailedPrecondition);

  // MANTA_KEY_ID naming another key is caught before any request.
  MantaSettings m = Settings("rsa", "/manage/stor/refused");
  m.key_id = "0e:13:fa:08:a7:a9:ef:e3:98:52:81:73:67:c8:65:ce";
  auto mismatch = Open(m);
  CHECK(mismatch->status.code() == Code::kInvalidArgument);
}

TEST_CASE("a sub-user works through MANTA_ROLE") {
  Control control;
  MantaSettings m = Settings("other-rsa", "/manage/stor/sub");
  m.subuser = "backup";
  SECTION("without a role it may not") {
    auto o = Open(m);
    auto list = o->store->List("");
    CHECK(list.status().code() == Code::kFailedPrecondition);
    CHECK_THAT(list.status().message(), Catch::Contains("HTTP 403 AuthorizationFailed"));
  }
  SECTION("with a role it is not a member of, Manta says InvalidRole") {
    m.role = "readers";
    auto o = Open(m);
    auto list = o->store->List("");
    CHECK_THAT(list.status().message(), Catch::Contains("HTTP 409 InvalidRole"));
    CHECK_THAT(list.status().message(), Catch::Contains("MANTA_ROLE"));
  }
  SECTION("with its role") {
    m.role = "snapshots";
    auto o = Open(m);
    REQUIRE(WriteObject(*o->store, "snap", "sub-user data").ok());
    CHECK(*ReadAll(*o->store, "snap") == "sub-user data");
    CHECK_THAT(control.Log(), Catch::Contains("\"keyId\":\"/manage/backup/keys/0e:13:fa:08:a7:"
                                              "a9:ef:e3:98:52:81:73:67:c8:65:ce\",\"role\":"
                                              "\"snapshots\""));
  }
}

TEST_CASE("faults give one clear error and leave nothing partial") {
  Control control;
  auto o = Open(Settings("ecdsa256", "/manage/stor/faults"));
  REQUIRE(o->status.ok());
  ObjectStore& store = *o->store;
  const std::string old_data = RandomBytes(200 * 1024, 2);
  const std::string data = RandomBytes(3 * 1024 * 1024, 3);
  REQUIRE(WriteObject(store, "snap", old_data).ok());
  control.ClearLog();

  SECTION("the connection dropped mid-upload: the older object stays") {
    control.Faults(R"([{"method":"PUT","path":"/faults/snap$","action":"drop",)"
                   R"("after_bytes":1048576}])");
    Status st = WriteObject(store, "snap", data);
    std::cout << "dropped upload: " << st.ToString() << "\n";
    CHECK(st.code() == Code::kUnavailable);
    CHECK_THAT(st.message(), Catch::Contains("/manage/stor/faults/snap: "));
    CHECK(*ReadAll(store, "snap") == old_data);
  }
  SECTION("Manta answers the upload with 500: not replayed, nothing new") {
    control.Faults(R"([{"method":"PUT","path":"/faults/new$","status":500}])");
    Status st = WriteObject(store, "new", data);
    CHECK(st.code() == Code::kUnavailable);
    CHECK_THAT(st.message(), Catch::Contains("HTTP 500"));
  }
  SECTION("an upload larger than Manta's streaming limit (8 MiB here)") {
    Status st = WriteObject(store, "big", RandomBytes(9 * 1024 * 1024, 4));
    std::cout << "too big: " << st.ToString() << "\n";
    CHECK_FALSE(st.ok());
  }
  SECTION("the backup lock is lost mid-upload: cancelled") {
    Status st = WriteObject(store, "new", data, [&o](size_t at) {
      if (at >= 1024 * 1024) o->cancel = true;
    });
    CHECK(st.code() == Code::kAborted);
    o->cancel = false;
  }
  SECTION("403 on the directory check: no upload starts") {
    // Refused as Manta refuses: every request to the path, HEAD and GET.
    control.Faults(R"([{"method":"*","path":"/faults$","times":2,"status":403,)"
                   R"("code":"AuthorizationFailed",)"
                   R"("message":"manage is not allowed to access /manage/stor/faults"}])");
    auto fresh = Open(Settings("ecdsa256", "/manage/stor/faults"));
    auto writer = fresh->store->Create("new");
    REQUIRE_FALSE(writer.ok());
    CHECK_THAT(writer.status().message(), Catch::Contains("HTTP 403 AuthorizationFailed"));
    CHECK_THAT(control.Log(), !Catch::Contains("\"method\":\"PUT\""));
  }
  SECTION("500 once on a read: retried") {
    control.Faults(R"([{"method":"GET","path":"/faults/snap$","status":500}])");
    CHECK(*ReadAll(store, "snap") == old_data);
  }
  SECTION("a read cut off mid-body resumes where it stopped") {
    control.Faults(R"([{"method":"GET","path":"/faults/snap$","action":"drop",)"
                   R"("after_bytes":65536}])");
    CHECK(*ReadAll(store, "snap") == old_data);
    CHECK_THAT(control.Log(), Catch::Contains("\"range\":\"bytes="));
  }
  CHECK(Names(store) == std::vector<std::string>{"snap"});
  CHECK(NoUploadLeftBehind());
  control.Faults("[]");
}

TEST_CASE("MANTA_TLS_INSECURE: a self-signed certificate is accepted only when set") {
  MantaSettings m = Settings("rsa", "/manage/stor/tls", Url("tls"));
  auto verified = Open(m);
  auto list = verified->store->List("");
  REQUIRE_FALSE(list.ok());
  CHECK(list.status().code() == Code::kUnavailable);
  m.tls_insecure = true;
  auto insecure = Open(m);
  REQUIRE(WriteObject(*insecure->store, "snap", "over TLS").ok());
  CHECK(*ReadAll(*insecure->store, "snap") == "over TLS");
}

}  // namespace
}  // namespace manage::storage
