#include "storage/settings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/config.h"

namespace manage::storage {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The first of `names` that is set, else `fallback`.
std::string FirstOf(const EnvReader& r, std::initializer_list<const char*> names,
                    const std::string& fallback = "") {
  for (const char* name : names) {
    std::string value = r.String(name);
    if (!value.empty()) return value;
  }
  return fallback;
}

// "a//b/" -> "a/b"; empty when invalid (and an error recorded).
std::string ReadPrefix(EnvReader& r) {
  std::string raw = r.String("SNAPSHOT_PREFIX");
  std::string out;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('/', start);
    if (end == std::string::npos) end = raw.size();
    std::string part = raw.substr(start, end - start);
    start = end + 1;
    if (part.empty()) continue;
    bool control = std::any_of(part.begin(), part.end(),
                               [](unsigned char c) { return c < 0x20 || c == 0x7f; });
    if (part == "." || part == ".." || control) {
      r.Fail("SNAPSHOT_PREFIX",
             fmt::format("'{}' must be directory names separated by '/' ('.', '..' and control "
                         "characters are not allowed)",
                         raw));
      return "";
    }
    out += (out.empty() ? "" : "/") + part;
  }
  return out;
}

std::string WithoutTrailingSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

void ReadS3(EnvReader& r, const std::string& backend, S3Settings& s) {
  s.region = FirstOf(r, {"AWS_REGION", "AWS_DEFAULT_REGION", "MINIO_LOCATION"}, s.region);
  s.bucket = FirstOf(r, {"AWS_BUCKET", "MINIO_BUCKET"}, s.bucket);
  s.access_key = FirstOf(r, {"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "MINIO_ACCESS_KEY"});
  s.secret_key = FirstOf(r, {"AWS_SECRET_ACCESS_KEY", "MINIO_SECRET_KEY"});
  s.session_token = r.String("AWS_SESSION_TOKEN");
  s.ca_file = r.String("AWS_CA_BUNDLE");
  // The original's S3 driver was a MinIO client: MINIO_URL (default
  // minio:9000) with TLS only when MINIO_TLS_SECURE says so.
  bool minio = backend == "minio" || r.Has("MINIO_URL") || r.Has("MINIO_ACCESS_KEY");
  std::string endpoint = FirstOf(r, {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"});
  if (endpoint.empty() && minio) {
    endpoint = r.String("MINIO_URL", "minio:9000");
    if (endpoint.find("://") == std::string::npos) {
      endpoint = (r.Flag("MINIO_TLS_SECURE", false) ? "https://" : "http://") + endpoint;
    }
  } else if (endpoint.empty()) {
    endpoint = "https://s3." + s.region + ".amazonaws.com";
  } else if (endpoint.find("://") == std::string::npos) {
    endpoint = "https://" + endpoint;
  }
  s.endpoint = WithoutTrailingSlash(endpoint);
  if (!s.endpoint.starts_with("http://") && !s.endpoint.starts_with("https://")) {
    r.Fail("AWS_ENDPOINT_URL", fmt::format("'{}' is not an http:// or https:// URL", s.endpoint));
  }
  std::string style = Lower(r.String("S3_ADDRESSING_STYLE", "auto"));
  if (style == "auto") {
    s.addressing = S3Addressing::kAuto;
  } else if (style == "path") {
    s.addressing = S3Addressing::kPath;
  } else if (style == "virtual") {
    s.addressing = S3Addressing::kVirtual;
  } else {
    r.Fail("S3_ADDRESSING_STYLE", fmt::format("'{}': use auto, path or virtual", style));
  }
  if (s.bucket.find('/') != std::string::npos) {
    r.Fail(r.Has("AWS_BUCKET") ? "AWS_BUCKET" : "MINIO_BUCKET",
           fmt::format("'{}' is a bucket name, not a path (use SNAPSHOT_PREFIX for folders)",
                       s.bucket));
  }
  if (s.access_key.empty()) {
    r.Fail("AWS_ACCESS_KEY_ID", "not set (also read: AWS_ACCESS_KEY, MINIO_ACCESS_KEY)");
  }
  if (s.secret_key.empty()) {
    r.Fail("AWS_SECRET_ACCESS_KEY", "not set (also read: MINIO_SECRET_KEY)");
  }
}

// "MD5:1A:b8:..." -> "1a:b8:..."; empty when it is not an MD5 fingerprint.
std::string NormalizeKeyId(std::string id) {
  id = Lower(id);
  if (id.starts_with("md5:")) id = id.substr(4);
  if (id.size() != 47) return "";
  for (size_t i = 0; i < id.size(); ++i) {
    bool ok = i % 3 == 2 ? id[i] == ':' : std::isxdigit(static_cast<unsigned char>(id[i])) != 0;
    if (!ok) return "";
  }
  return id;
}

void ReadManta(EnvReader& r, MantaSettings& m) {
  m.url = WithoutTrailingSlash(r.String("MANTA_URL", m.url));
  m.user = r.String("MANTA_USER");
  m.subuser = r.String("MANTA_SUBUSER");
  m.role = r.String("MANTA_ROLE");
  m.private_key = UnfoldPrivateKey(r.Raw("MANTA_PRIVATE_KEY"));
  m.directory = WithoutTrailingSlash(r.String("MANTA_BUCKET", "/" + m.user + "/stor"));
  m.tls_insecure = r.Flag("MANTA_TLS_INSECURE", false);
  m.max_object_size = static_cast<uint64_t>(r.Int("MANTA_MAX_OBJECT_SIZE_GB", 0, 0, 1 << 20)) << 30;
  if (!m.url.starts_with("http://") && !m.url.starts_with("https://")) {
    r.Fail("MANTA_URL", fmt::format("'{}' is not an http:// or https:// URL", m.url));
  }
  if (m.user.empty()) r.Fail("MANTA_USER", "not set: the Manta account name");
  std::string key_id = r.String("MANTA_KEY_ID");
  if (!key_id.empty()) {
    m.key_id = NormalizeKeyId(key_id);
    if (m.key_id.empty()) {
      r.Fail("MANTA_KEY_ID",
             fmt::format("'{}' is not an MD5 key fingerprint (aa:bb:...:ff)", key_id));
    }
  }
  if (m.private_key.empty()) {
    r.Fail("MANTA_PRIVATE_KEY", "not set: the private SSH key of MANTA_USER (or MANTA_SUBUSER)");
  }
  if (m.directory.empty() || m.directory.front() != '/') {
    r.Fail("MANTA_BUCKET", fmt::format("'{}' must be an absolute Manta path such as "
                                       "/{}/stor/backups",
                                       m.directory, m.user.empty() ? "account" : m.user));
  }
}

}  // namespace

std::string UnfoldPrivateKey(const std::string& value) {
  if (value.find('\n') != std::string::npos) return value;
  std::string out = value;
  std::replace(out.begin(), out.end(), '#', '\n');
  return out;
}

Result<StoreSettings> ReadStoreSettings(const Env& env) {
  EnvReader r(env);
  const std::string backend = SnapshotBackendAsGiven(r);
  StoreSettings s;
  s.backend = backend == "minio" ? "s3" : backend;
  s.prefix = ReadPrefix(r);
  if (s.backend == "local") {
    s.local_dir = r.String("STORAGE_DIR", "/tmp/snapshots");
  } else if (s.backend == "s3") {
    ReadS3(r, backend, s.s3);
  } else if (s.backend == "manta") {
    ReadManta(r, s.manta);
  } else {
    r.Fail("SNAPSHOT_BACKEND", fmt::format("'{}' is not one of manta, s3, minio, local", backend));
  }
  MANAGE_RETURN_IF_ERROR(r.status());
  return s;
}

}  // namespace manage::storage
