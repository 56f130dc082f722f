#include "fakes/fake_process.h"

#include <catch2/catch.hpp>

namespace manage::sys {
namespace {

using Reply = FakeProcessRunner::Reply;

TEST_CASE("FakeProcessRunner answers from its script and records calls") {
  FakeProcessRunner runner;
  runner.Script("mariabackup", Reply().Exit(1).Stderr("boom\n"));
  runner.Script("mbstream", Reply().Fail(Status::Unavailable("cannot run 'mbstream'")));
  Result<ProcessResult> r = runner.Run({{"mariabackup", "--prepare"}, {}, "", {}}, "in");
  REQUIRE(r.ok());
  CHECK(r->exit_code == 1);
  CHECK(r->stderr_tail == "boom\n");
  CHECK(runner.Run({{"mbstream"}, {}, "", {}}).status().code() == Code::kUnavailable);
  Result<ProcessResult> unscripted = runner.Run({{"mariabackup"}, {}, "", {}});
  REQUIRE(unscripted.ok());
  CHECK(unscripted->exit_code == 0);
  CHECK(runner.CommandLines() ==
        std::vector<std::string>{"mariabackup --prepare", "mbstream", "mariabackup"});
  CHECK(runner.calls()[0].stdin_data == "in");
}

TEST_CASE("FakeProcessRunner streams stdout and takes stdin from writers") {
  FakeProcessRunner runner;
  runner.Script("gen", Reply().Stdout("0123456789abc"));
  std::vector<std::string> chunks;
  Result<ProcessResult> r = runner.RunWithOutput({{"gen"}, {}, "", {}}, [&](std::string_view c) {
    chunks.emplace_back(c);
    return Status::Ok();
  });
  REQUIRE(r.ok());
  CHECK(chunks == std::vector<std::string>{"01234", "56789", "abc"});

  runner.Script("eat", Reply().Exit(2).ReadLimit(4));
  Status seen;
  r = runner.RunWithWriter({{"eat"}, {}, "", {}}, [&](const OutputSink& in) {
    seen = in("abcdef");
    return seen;
  });
  REQUIRE(r.ok());
  CHECK(r->exit_code == 2);
  CHECK(seen.code() == Code::kFailedPrecondition);
  CHECK(runner.calls().back().stdin_data == "abcd");
}

}  // namespace
}  // namespace manage::sys
