#include "storage/settings.h"

#include <catch2/catch.hpp>

namespace manage::storage {
namespace {

const char kKey[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----#b3BlbnNzaC1rZXktdjEAAAAA#-----END OPENSSH PRIVATE "
    "KEY-----";

TEST_CASE("S3 settings honour the original's MINIO_* and AWS_* variables and AWS's own") {
  struct Row {
    std::string name;
    Env env;
    std::string endpoint, region, bucket, access_key, secret_key, token;
  };
  const Row rows[] = {
      {"the README's AWS_* variables go to AWS",
       {{"SNAPSHOT_BACKEND", "s3"},
        {"AWS_ACCESS_KEY", "AK"},
        {"AWS_SECRET_ACCESS_KEY", "SK"},
        {"AWS_REGION", "eu-west-1"},
        {"AWS_BUCKET", "db"}},
       "https://s3.eu-west-1.amazonaws.com",
       "eu-west-1",
       "db",
       "AK",
       "SK",
       ""},
      {"AWS SDK names win over the README's, with a session token",
       {{"BACKUP_DRIVER", "s3"},
        {"AWS_ACCESS_KEY_ID", "ID"},
        {"AWS_ACCESS_KEY", "old"},
        {"AWS_SECRET_ACCESS_KEY", "SK"},
        {"AWS_SESSION_TOKEN", "TOKEN"},
        {"AWS_DEFAULT_REGION", "ap-south-1"}},
       "https://s3.ap-south-1.amazonaws.com",
       "ap-south-1",
       "backups",
       "ID",
       "SK",
       "TOKEN"},
      {"minio with nothing but keys: the original's defaults",
       {{"SNAPSHOT_BACKEND", "minio"}, {"MINIO_ACCESS_KEY", "m"}, {"MINIO_SECRET_KEY", "s"}},
       "http://minio:9000",
       "us-east-1",
       "backups",
       "m",
       "s",
       ""},
      {"MINIO_URL, MINIO_TLS_SECURE, MINIO_LOCATION, MINIO_BUCKET",
       {{"SNAPSHOT_BACKEND", "s3"},
        {"MINIO_URL", "store.local:9443/"},
        {"MINIO_TLS_SECURE", "true"},
        {"MINIO_LOCATION", "home"},
        {"MINIO_BUCKET", "snaps"},
        {"MINIO_ACCESS_KEY", "m"},
        {"MINIO_SECRET_KEY", "s"}},
       "https://store.local:9443",
       "home",
       "snaps",
       "m",
       "s",
       ""},
      {"a custom endpoint (R2, Ceph) through AWS_ENDPOINT_URL_S3",
       {{"SNAPSHOT_BACKEND", "s3"},
        {"AWS_ENDPOINT_URL", "https://ignored.example"},
        {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4568"},
        {"AWS_ACCESS_KEY_ID", "k"},
        {"AWS_SECRET_ACCESS_KEY", "s"}},
       "http://127.0.0.1:4568",
       "us-east-1",
       "backups",
       "k",
       "s",
       ""},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    Result<StoreSettings> s = ReadStoreSettings(row.env);
    REQUIRE(s.ok());
    CHECK(s->backend == "s3");
    CHECK(s->s3.endpoint == row.endpoint);
    CHECK(s->s3.region == row.region);
    CHECK(s->s3.bucket == row.bucket);
    CHECK(s->s3.access_key == row.access_key);
    CHECK(s->s3.secret_key == row.secret_key);
    CHECK(s->s3.session_token == row.token);
    CHECK(s->s3.addressing == S3Addressing::kAuto);
  }
}

TEST_CASE("Store settings name the variable that is wrong") {
  struct Row {
    Env env;
    std::string variable;
  };
  const Row rows[] = {
      {{{"SNAPSHOT_BACKEND", "s3"}, {"AWS_SECRET_ACCESS_KEY", "s"}}, "AWS_ACCESS_KEY_ID"},
      {{{"SNAPSHOT_BACKEND", "s3"}, {"AWS_ACCESS_KEY_ID", "k"}}, "AWS_SECRET_ACCESS_KEY"},
      {{{"SNAPSHOT_BACKEND", "s3"},
        {"AWS_ACCESS_KEY_ID", "k"},
        {"AWS_SECRET_ACCESS_KEY", "s"},
        {"S3_ADDRESSING_STYLE", "dns"}},
       "S3_ADDRESSING_STYLE"},
      {{{"SNAPSHOT_BACKEND", "s3"},
        {"AWS_ACCESS_KEY_ID", "k"},
        {"AWS_SECRET_ACCESS_KEY", "s"},
        {"AWS_BUCKET", "bucket/dir"}},
       "AWS_BUCKET"},
      {{{"SNAPSHOT_BACKEND", "s3"},
        {"AWS_ACCESS_KEY_ID", "k"},
        {"AWS_SECRET_ACCESS_KEY", "s"},
        {"AWS_ENDPOINT_URL_S3", "ftp://x"}},
       "AWS_ENDPOINT_URL"},
      {{{"MANTA_PRIVATE_KEY", kKey}}, "MANTA_USER"},  // manta is the default backend
      {{{"MANTA_USER", "acct"}}, "MANTA_PRIVATE_KEY"},
      {{{"MANTA_USER", "acct"}, {"MANTA_PRIVATE_KEY", kKey}, {"MANTA_KEY_ID", "SHA256:abc"}},
       "MANTA_KEY_ID"},
      {{{"MANTA_USER", "acct"}, {"MANTA_PRIVATE_KEY", kKey}, {"MANTA_BUCKET", "stor/x"}},
       "MANTA_BUCKET"},
      {{{"MANTA_USER", "acct"}, {"MANTA_PRIVATE_KEY", kKey}, {"MANTA_URL", "manta.example"}},
       "MANTA_URL"},
      {{{"MANTA_USER", "acct"}, {"MANTA_PRIVATE_KEY", kKey}, {"MANTA_MAX_OBJECT_SIZE_GB", "1T"}},
       "MANTA_MAX_OBJECT_SIZE_GB"},
      {{{"SNAPSHOT_BACKEND", "local"}, {"SNAPSHOT_PREFIX", "a/../b"}}, "SNAPSHOT_PREFIX"},
      {{{"SNAPSHOT_BACKEND", "gcs"}}, "SNAPSHOT_BACKEND"},
  };
  for (const Row& row : rows) {
    Result<StoreSettings> s = ReadStoreSettings(row.env);
    INFO(row.variable << ": " << s.status().ToString());
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == Code::kInvalidArgument);
    CHECK(s.status().message().rfind(row.variable, 0) == 0);
  }
}

TEST_CASE("Manta settings: the original's defaults, '#' for newlines, key id normalised") {
  Result<StoreSettings> s = ReadStoreSettings({{"MANTA_USER", "acct"},
                                               {"MANTA_SUBUSER", "backup"},
                                               {"MANTA_ROLE", "writers"},
                                               {"MANTA_KEY_ID",
                                                "MD5:1A:b8:30:2e:57:ce:59:1d:16:"
                                                "f6:19:97:f2:60:2b:3d"},
                                               {"MANTA_PRIVATE_KEY", kKey}});
  REQUIRE(s.ok());
  CHECK(s->backend == "manta");
  CHECK(s->manta.url == "https://us-east.manta.joyent.com");
  CHECK(s->manta.directory == "/acct/stor");
  CHECK(s->manta.subuser == "backup");
  CHECK(s->manta.role == "writers");
  CHECK(s->manta.key_id == "1a:b8:30:2e:57:ce:59:1d:16:f6:19:97:f2:60:2b:3d");
  CHECK(s->manta.private_key ==
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE "
        "KEY-----");
  CHECK_FALSE(s->manta.tls_insecure);
  CHECK(s->manta.max_object_size == 0);  // Manta's own limit

  s = ReadStoreSettings({{"SNAPSHOT_BACKEND", "manta"},
                         {"MANTA_USER", "acct"},
                         {"MANTA_URL", "http://127.0.0.1:8080/"},
                         {"MANTA_BUCKET", "/acct/stor/triton-mysql/"},
                         {"MANTA_TLS_INSECURE", "1"},
                         {"MANTA_MAX_OBJECT_SIZE_GB", "64"},
                         {"MANTA_PRIVATE_KEY", "line one\nline#two"}});
  REQUIRE(s.ok());
  CHECK(s->manta.url == "http://127.0.0.1:8080");
  CHECK(s->manta.directory == "/acct/stor/triton-mysql");
  CHECK(s->manta.key_id.empty());
  CHECK(s->manta.private_key == "line one\nline#two");  // real newlines: '#' is kept
  CHECK(s->manta.tls_insecure);
  CHECK(s->manta.max_object_size == uint64_t{64} << 30);
}

TEST_CASE("SNAPSHOT_PREFIX is normalised to directories without outer slashes") {
  struct Row {
    std::string raw, want;
  };
  const Row rows[] = {{"", ""}, {"/", ""}, {"prod", "prod"}, {"/a//b/", "a/b"}};
  for (const Row& row : rows) {
    Result<StoreSettings> s = ReadStoreSettings(
        {{"SNAPSHOT_BACKEND", "local"}, {"STORAGE_DIR", "/s"}, {"SNAPSHOT_PREFIX", row.raw}});
    REQUIRE(s.ok());
    CHECK(s->prefix == row.want);
    CHECK(s->local_dir == "/s");
  }
}

}  // namespace
}  // namespace manage::storage
