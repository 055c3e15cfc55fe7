#include "agent/base/file.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

namespace vigil {
namespace {

namespace fs = std::filesystem;

fs::path TempDir() {
  fs::path dir = fs::temp_directory_path() / ("vigil_file_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST_CASE("ReadFileBounded reads up to its bound and refuses more") {
  fs::path dir = TempDir();
  std::ofstream(dir / "ten") << "0123456789";
  Result<std::string> exact = ReadFileBounded((dir / "ten").string(), 10);
  REQUIRE(exact.ok());
  CHECK(*exact == "0123456789");
  Result<std::string> over = ReadFileBounded((dir / "ten").string(), 9);
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == Status::Code::kInvalidArgument);
  CHECK(over.status().message() == "larger than 9 bytes");
  std::ofstream(dir / "empty").flush();
  Result<std::string> empty = ReadFileBounded((dir / "empty").string(), 0);
  REQUIRE(empty.ok());
  CHECK(empty->empty());

  Result<std::string> missing = ReadFileBounded((dir / "missing").string(), 10);
  CHECK(missing.status().code() == Status::Code::kNotFound);
  CHECK(missing.status().message().find("cannot open") == 0);
  // A folder opens but cannot be read.
  Result<std::string> folder = ReadFileBounded(dir.string(), 10);
  CHECK(folder.status().code() == Status::Code::kUnavailable);
  fs::remove_all(dir);
}

TEST_CASE("ReadFileBounded stops at its bound on an endless file") {
  auto start = std::chrono::steady_clock::now();
  Result<std::string> zeros = ReadFileBounded("/dev/zero", 1 << 20);
  CHECK(zeros.status().code() == Status::Code::kInvalidArgument);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("WriteFileAtomically replaces the file whole and leaves no temporary") {
  fs::path dir = TempDir();
  fs::path path = dir / "sub" / "state.json";  // the parent is created
  REQUIRE(WriteFileAtomically(path.string(), "first").ok());
  REQUIRE(WriteFileAtomically(path.string(), "second, longer").ok());
  CHECK(*ReadFileBounded(path.string(), 100) == "second, longer");
  CHECK_FALSE(fs::exists(path.string() + ".tmp"));
  // A path under a regular file cannot be written; the error names the temporary.
  std::ofstream(dir / "plain") << "x";
  Status bad = WriteFileAtomically((dir / "plain" / "state.json").string(), "x");
  CHECK(bad.code() == Status::Code::kUnavailable);
  CHECK(bad.message().find("state.json.tmp") != std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil
