#include "lake/dead_letter.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <dirent.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace flowlake {
namespace {

namespace fs = std::filesystem;

std::string FreshDir(const std::string& name) {
  fs::path p = fs::path(::testing::TempDir()) / ("dead_letter_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

TEST(DeadLetterTest, WritesOneJsonLinePerRejectAndCommitsOnClose) {
  std::string root = FreshDir("basic");
  DeadLetterWriter w({.root = root}, "run1");
  w.Reject({"flows.json", 2, 171, -1}, "invalid JSON: TAPE_ERROR",
           "{\"PROBEID\":\"dc1\",\"IPV4_SRC_ADDR\":");
  w.Reject({"batch.json", 7, 900, 3}, "not an object: got array", "[1,2,\"\\u00e9\"]\t");
  // Not visible before Close(): readers only see whole files.
  EXPECT_FALSE(fs::exists(root + "/_rejected/run1-0001.ndjson"));
  ASSERT_TRUE(w.Close().ok());
  ASSERT_EQ(w.files().size(), 1u);
  auto lines = ReadLines(root + "/" + w.files()[0]);
  ASSERT_EQ(lines.size(), 2u);
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(lines[0]);
  EXPECT_EQ(std::string_view(e["source"]), "flows.json");
  EXPECT_EQ(int64_t(e["line"]), 2);
  EXPECT_EQ(int64_t(e["offset"]), 171);
  EXPECT_EQ(int64_t(e["array_index"]), -1);
  EXPECT_EQ(std::string_view(e["reason"]), "invalid JSON: TAPE_ERROR");
  EXPECT_EQ(std::string_view(e["record"]), "{\"PROBEID\":\"dc1\",\"IPV4_SRC_ADDR\":");
  e = parser.parse(lines[1]);
  EXPECT_EQ(int64_t(e["array_index"]), 3);
  EXPECT_EQ(std::string_view(e["record"]), "[1,2,\"\\u00e9\"]\t");
  EXPECT_EQ(w.rejected(), 2u);
}

TEST(DeadLetterTest, NonUtf8RecordIsKeptByteExactAsBase64) {
  std::string root = FreshDir("base64");
  DeadLetterWriter w({.root = root}, "run");
  w.Reject({"x", 1, 0, -1}, "invalid JSON", std::string_view("\xff\xfe{a", 4));
  ASSERT_TRUE(w.Close().ok());
  auto lines = ReadLines(root + "/" + w.files()[0]);
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(lines[0]);
  // base64("\xff\xfe{a") computed with `printf '\xff\xfe{a' | base64`
  EXPECT_EQ(std::string_view(e["record_base64"]), "//57YQ==");
}

TEST(DeadLetterTest, LongRecordIsTruncatedAndFlagged) {
  std::string root = FreshDir("trunc");
  DeadLetterWriter w({.root = root, .max_record_bytes = 100}, "run");
  w.Reject({"x", 1, 0, -1}, "too large", std::string(1000, 'a'));
  ASSERT_TRUE(w.Close().ok());
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(ReadLines(root + "/" + w.files()[0])[0]);
  EXPECT_EQ(std::string_view(e["record"]).size(), 100u);
  EXPECT_TRUE(bool(e["truncated"]));
}

TEST(DeadLetterTest, StagedModeHandsFilesOutInsteadOfPublishing) {
  std::string root = FreshDir("staged");
  DeadLetterWriter w({.root = root, .staging_dir = "_flowlake/staging/r"}, "run2");
  w.Reject({"netflows/3", 0, 41, -1}, "invalid JSON", "{oops");
  w.Reject({"netflows/3", 0, 42, 1}, "missing src_ip", "[{},{}]");
  Result<std::vector<StagedFile>> staged = w.TakeStaged();
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  ASSERT_EQ(staged->size(), 1u);
  const StagedFile& f = (*staged)[0];
  EXPECT_EQ(f.staging_path, "_flowlake/staging/r/run2-0001.ndjson");
  EXPECT_EQ(f.final_path, "_rejected/run2-0001.ndjson");
  EXPECT_EQ(f.rows, 2u);
  EXPECT_EQ(fs::file_size(root + "/" + f.staging_path), f.bytes);
  EXPECT_FALSE(fs::exists(root + "/_rejected"));
  auto lines = ReadLines(root + "/" + f.staging_path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("\"source\":\"netflows/3\",\"line\":0,\"offset\":42"), std::string::npos)
      << lines[1];
  // Nothing new: nothing handed out. A discarded file disappears.
  EXPECT_TRUE(w.TakeStaged()->empty());
  w.Reject({"netflows/0", 0, 7, -1}, "invalid JSON", "x");
  w.DiscardAll();
  EXPECT_TRUE(w.TakeStaged()->empty());
  EXPECT_EQ(fs::directory_iterator(root + "/_flowlake/staging/r")->path().filename(),
            "run2-0001.ndjson");
}

TEST(DeadLetterTest, NothingRejectedCreatesNothing) {
  std::string root = FreshDir("empty");
  DeadLetterWriter w({.root = root}, "run");
  ASSERT_TRUE(w.Close().ok());
  EXPECT_FALSE(fs::exists(root + "/_rejected"));
}

TEST(DeadLetterTest, ConcurrentRejectsAreAllKeptWhole) {
  std::string root = FreshDir("threads");
  DeadLetterWriter w({.root = root}, "run");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&w, t] {
      for (int i = 0; i < 500; ++i) {
        w.Reject({"t", uint64_t(i), 0, t}, "bad", "{\"i\":" + std::to_string(i) + "}");
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(w.Close().ok());
  auto lines = ReadLines(root + "/" + w.files()[0]);
  ASSERT_EQ(lines.size(), 2000u);
  simdjson::dom::parser parser;
  for (const auto& l : lines) ASSERT_FALSE(parser.parse(l).error()) << l;
}

}  // namespace
}  // namespace flowlake
