// store_tool: one ObjectStore operation from the command line, with the store
// configured from the environment exactly as manage configures it
// (SNAPSHOT_BACKEND and the backend's variables). For integration tests that
// check a store against other clients (awscli) and under injected faults.
//   store_tool put NAME < data      get NAME > data      stat NAME
//   store_tool list [PREFIX]        rm NAME
// Exit 0 on success; 1 with one line "store_tool: <Code>: <message>" on failure.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "core/env.h"
#include "storage/open_store.h"
#include "sys/clock.h"

namespace manage {
namespace {

Status Put(storage::ObjectStore& store, const std::string& name) {
  Result<std::unique_ptr<storage::ObjectWriter>> writer = store.Create(name);
  if (!writer.ok()) return writer.status();
  std::string buf(64 * 1024, '\0');
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
    if (n < 0) return Status::Internal("read stdin");
    if (n == 0) break;
    MANAGE_RETURN_IF_ERROR((*writer)->Write(std::string_view(buf.data(), n)));
  }
  return (*writer)->Commit();
}

Status Run(storage::ObjectStore& store, const std::string& op, const std::string& arg) {
  if (op == "put") return Put(store, arg);
  if (op == "get") {
    return store.Read(arg, [](std::string_view chunk) {
      std::cout.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      return std::cout ? Status::Ok() : Status::Internal("write stdout");
    });
  }
  if (op == "stat") {
    Result<storage::ObjectInfo> info = store.Stat(arg);
    if (!info.ok()) return info.status();
    std::cout << info->name << " " << info->size << " " << info->etag << "\n";
    return Status::Ok();
  }
  if (op == "list") {
    Result<std::vector<storage::ObjectInfo>> list = store.List(arg);
    if (!list.ok()) return list.status();
    for (const auto& info : *list) std::cout << info.name << " " << info.size << "\n";
    return Status::Ok();
  }
  if (op == "rm") return store.Remove(arg);
  return Status::InvalidArgument("unknown operation '" + op + "'");
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: store_tool put|get|stat|rm NAME, or list [PREFIX]\n";
    return 2;
  }
  Result<storage::StoreSettings> settings = storage::ReadStoreSettings(ProcessEnv());
  sys::RealClock clock;
  storage::StoreContext context;
  context.clock = &clock;
  context.on_retry = [](const Status& failure, int attempt, std::chrono::milliseconds wait) {
    std::cerr << "store_tool: retrying after attempt " << attempt << " in " << wait.count()
              << " ms: " << failure.message() << "\n";
  };
  Status st = settings.status();
  if (st.ok()) {
    auto store = storage::OpenStore(*settings, context);
    st = store.ok() ? Run(**store, argv[1], argc > 2 ? argv[2] : "") : store.status();
  }
  if (!st.ok()) {
    std::cerr << "store_tool: " << st.ToString() << "\n";
    return 1;
  }
  std::cout.flush();
  return 0;
}

}  // namespace
}  // namespace manage

int main(int argc, char** argv) { return manage::Main(argc, argv); }
