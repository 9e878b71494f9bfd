#include "detect/blocklist.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace flowlake {
namespace {

namespace fs = std::filesystem;

class BlocklistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("blocklist_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "list.txt").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Replace the list the way operators should: a new file renamed over it.
  void Publish(const std::string& text) {
    const fs::path tmp = dir_ / "list.txt.tmp";
    std::ofstream(tmp, std::ios::binary | std::ios::trunc) << text;
    fs::rename(tmp, path_);
  }
  // Rewrite in place (same inode).
  void Overwrite(const std::string& text) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
  }

  BlocklistConfig Config() const { return {path_, 5000}; }

  fs::path dir_;
  std::string path_;
  ManualClock clock_{1'000'000};
};

bool Has(const Blocklist& b, const char* address) {
  return b.current()->Contains(std::string_view(address));
}

TEST(BlocklistConfigTest, Validate) {
  EXPECT_TRUE((BlocklistConfig{"/etc/flowlake/block.txt"}).Validate().ok());
  EXPECT_EQ((BlocklistConfig{"/etc/flowlake/block.txt"}).check_interval_ms, 5000);
  EXPECT_EQ(BlocklistConfig{}.Validate().code(), StatusCode::kInvalidArgument);
  Status negative = BlocklistConfig{"x", -1}.Validate();
  EXPECT_EQ(negative.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(negative.message(), "blocklist: check_interval_ms is negative (-1)");
}

TEST_F(BlocklistTest, EmptyBeforeTheFirstLoad) {
  Publish("10.0.0.0/8\n");
  Blocklist blocklist(Config(), clock_);
  ASSERT_NE(blocklist.current(), nullptr);
  EXPECT_TRUE(blocklist.current()->empty());
  EXPECT_EQ(blocklist.counters().reloads, 0u);
}

TEST_F(BlocklistTest, FirstCheckLoadsThenUnchangedFileIsNotReloaded) {
  Publish("10.0.0.0/8\n2001:db8::/32\n");
  Blocklist blocklist(Config(), clock_);
  ASSERT_TRUE(blocklist.MaybeReload().ok());
  EXPECT_TRUE(Has(blocklist, "10.1.2.3"));
  EXPECT_TRUE(Has(blocklist, "2001:db8::1"));
  EXPECT_EQ(blocklist.counters().reloads, 1u);
  EXPECT_EQ(blocklist.counters().entries, 2u);

  const IpSet* first = blocklist.current().get();
  for (int i = 0; i < 3; ++i) {
    clock_.AdvanceMs(5000);
    ASSERT_TRUE(blocklist.MaybeReload().ok());
  }
  EXPECT_EQ(blocklist.current().get(), first);
  EXPECT_EQ(blocklist.counters().reloads, 1u);
  EXPECT_EQ(blocklist.counters().reload_errors, 0u);
}

TEST_F(BlocklistTest, ChangedFileIsLoadedAtTheNextDueCheck) {
  Publish("10.0.0.0/8\n");
  Blocklist blocklist(Config(), clock_);
  ASSERT_TRUE(blocklist.MaybeReload().ok());
  std::shared_ptr<const IpSet> old_snapshot = blocklist.current();

  Publish("192.0.2.0/24\n2001:db8::/32\n198.51.100.1\n");
  clock_.AdvanceMs(4999);  // not due yet: the change is not seen
  ASSERT_TRUE(blocklist.MaybeReload().ok());
  EXPECT_TRUE(Has(blocklist, "10.1.2.3"));
  EXPECT_EQ(blocklist.counters().reloads, 1u);

  clock_.AdvanceMs(1);
  ASSERT_TRUE(blocklist.MaybeReload().ok());
  EXPECT_FALSE(Has(blocklist, "10.1.2.3"));
  EXPECT_TRUE(Has(blocklist, "192.0.2.7"));
  EXPECT_TRUE(Has(blocklist, "2001:db8::1"));
  EXPECT_EQ(blocklist.counters().reloads, 2u);
  EXPECT_EQ(blocklist.counters().entries, 3u);
  // A snapshot taken before the reload is unchanged.
  EXPECT_TRUE(old_snapshot->Contains(std::string_view("10.1.2.3")));
  EXPECT_FALSE(old_snapshot->Contains(std::string_view("192.0.2.7")));
}

TEST_F(BlocklistTest, InPlaceRewriteIsLoaded) {
  Publish("10.0.0.0/8\n");
  Blocklist blocklist(Config(), clock_);
  ASSERT_TRUE(blocklist.MaybeReload().ok());

  Overwrite("172.16.0.0/12\n10.0.0.0/8\n");  // other size, same inode
  clock_.AdvanceMs(5000);
  ASSERT_TRUE(blocklist.MaybeReload().ok());
  EXPECT_TRUE(Has(blocklist, "172.16.5.5"));
  EXPECT_EQ(blocklist.counters().reloads, 2u);

  // Same size, same inode: only the mtime tells. Set it explicitly, since two
  // writes within one file-system timestamp tick would look identical.
  const auto mtime = fs::last_write_time(path_);
  Overwrite("192.168.0.0/16\n10.0.0.0/8\n");
  fs::last_write_time(path_, mtime + std::chrono::seconds(1));
  clock_.AdvanceMs(5000);
  ASSERT_TRUE(blocklist.MaybeReload().ok());
  EXPECT_TRUE(Has(blocklist, "192.168.1.1"));
  EXPECT_FALSE(Has(blocklist, "172.16.5.5"));
  EXPECT_EQ(blocklist.counters().reloads, 3u);
}

TEST_F(BlocklistTest, DeletedFileIsAnErrorAndTheOldSetStays) {
  Publish("10.0.0.0/8\n");
  Blocklist blocklist(Config(), clock_);
  ASSERT_TRUE(blocklist.MaybeReload().ok());

  fs::remove(path_);
  clock_.AdvanceMs(5000);
  Status st = blocklist.MaybeReload();
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_EQ(st.message(), "stat " + path_ + ": No such file or directory");
  EXPECT_TRUE(Has(blocklist, "10.1.2.3"));
  EXPECT_EQ(blocklist.counters().reload_errors, 1u);
  EXPECT_EQ(blocklist.counters().entries, 1u);

  // Not due: no new check, no new error.
  ASSERT_TRUE(blocklist.MaybeReload().ok());
  // Due and still missing: reported again.
  clock_.AdvanceMs(5000);
  EXPECT_EQ(blocklist.MaybeReload().code(), StatusCode::kIoError);
  EXPECT_EQ(blocklist.counters().reload_errors, 2u);

  // Back again: loaded.
  Publish("192.0.2.0/24\n");
  clock_.AdvanceMs(5000);
  ASSERT_TRUE(blocklist.MaybeReload().ok());
  EXPECT_TRUE(Has(blocklist, "192.0.2.1"));
  EXPECT_FALSE(Has(blocklist, "10.1.2.3"));
  EXPECT_EQ(blocklist.counters().reloads, 2u);
}

TEST_F(BlocklistTest, UnreadableFileKeepsTheOldSet) {
  Publish("10.0.0.0/8\n");
  Blocklist blocklist(Config(), clock_);
  ASSERT_TRUE(blocklist.MaybeReload().ok());

  fs::remove(path_);
  fs::create_directory(path_);  // stat(2) works, read(2) does not
  clock_.AdvanceMs(5000);
  Status st = blocklist.MaybeReload();
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find(path_), std::string::npos) << st.message();
  EXPECT_TRUE(Has(blocklist, "10.1.2.3"));
  EXPECT_EQ(blocklist.counters().reload_errors, 1u);
}

TEST_F(BlocklistTest, FileWithNoValidLineKeepsTheOldSetAndIsReportedOnce) {
  Publish("10.0.0.0/8\n");
  Blocklist blocklist(Config(), clock_);
  ASSERT_TRUE(blocklist.MaybeReload().ok());

  Publish("<html>404</html>\n");
  clock_.AdvanceMs(5000);
  Status st = blocklist.MaybeReload();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find(path_ + ":1:"), std::string::npos) << st.message();
  EXPECT_TRUE(Has(blocklist, "10.1.2.3"));
  EXPECT_EQ(blocklist.counters().reload_errors, 1u);

  clock_.AdvanceMs(5000);  // the same bad file: not parsed again
  EXPECT_TRUE(blocklist.MaybeReload().ok());
  EXPECT_EQ(blocklist.counters().reload_errors, 1u);
}

TEST_F(BlocklistTest, BadLinesInAGoodFileAreCountedNotErrors) {
  Publish("10.0.0.0/8\nnonsense\n192.0.2.1\n");
  Blocklist blocklist(Config(), clock_);
  ASSERT_TRUE(blocklist.MaybeReload().ok());
  EXPECT_EQ(blocklist.counters().entries, 2u);
  EXPECT_EQ(blocklist.counters().reload_errors, 0u);
  std::shared_ptr<const IpSet> set = blocklist.current();
  EXPECT_EQ(set->stats().bad_lines, 1u);
  ASSERT_EQ(set->errors().size(), 1u);
  EXPECT_EQ(set->errors()[0], path_ + ":2: not an IPv4 or IPv6 address: 'nonsense'");
}

TEST_F(BlocklistTest, ReloadIgnoresTheInterval) {
  Blocklist missing(Config(), clock_);
  EXPECT_EQ(missing.Reload().code(), StatusCode::kIoError);  // fail fast at start-up
  EXPECT_TRUE(missing.current()->empty());

  Publish("10.0.0.0/8\n");
  ASSERT_TRUE(missing.Reload().ok());  // no clock advance needed
  EXPECT_TRUE(Has(missing, "10.0.0.1"));
}

TEST_F(BlocklistTest, ZeroIntervalChecksEveryCall) {
  Publish("10.0.0.0/8\n");
  Blocklist blocklist({path_, 0}, clock_);
  ASSERT_TRUE(blocklist.MaybeReload().ok());
  Publish("192.0.2.0/24\n");
  ASSERT_TRUE(blocklist.MaybeReload().ok());
  EXPECT_TRUE(Has(blocklist, "192.0.2.1"));
}

// Readers on other threads while the owner reloads: every snapshot is a
// whole set (run under ASan, a freed set would be caught).
TEST_F(BlocklistTest, ReadersRaceReloads) {
  Publish("10.0.0.0/8\n");
  Blocklist blocklist({path_, 0}, clock_);
  ASSERT_TRUE(blocklist.MaybeReload().ok());

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> torn{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        std::shared_ptr<const IpSet> set = blocklist.current();
        // Each version lists exactly one of the two networks.
        const bool a = set->Contains(std::string_view("10.1.1.1"));
        const bool b = set->Contains(std::string_view("192.0.2.1"));
        if (a == b) torn.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    Publish(i % 2 == 0 ? "192.0.2.0/24\n" : "10.0.0.0/8\n");
    ASSERT_TRUE(blocklist.MaybeReload().ok());
  }
  stop = true;
  for (std::thread& r : readers) r.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(blocklist.counters().reloads, 51u);
}

}  // namespace
}  // namespace flowlake
