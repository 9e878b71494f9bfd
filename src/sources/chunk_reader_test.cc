#include "sources/chunk_reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace flowlake {
namespace {

// Cuts after the last newline: enough to test the reader's own bookkeeping.
size_t AfterLastNewline(const char* data, size_t size) {
  for (size_t i = size; i > 0; --i) {
    if (data[i - 1] == '\n') return i;
  }
  return 0;
}

std::string TempFile(const std::string& content) {
  std::string path = ::testing::TempDir() + "chunk_reader_" +
                     std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(ChunkReaderTest, ChunksReassembleTheInputAndCountLines) {
  std::string content;
  for (int i = 0; i < 5000; ++i) content += "{\"n\":" + std::to_string(i) + ",\"pad\":\"xxxxxxxxxx\"}\n";
  std::string path = TempFile(content);
  ChunkReaderConfig config;
  config.chunk_bytes = 4096;
  auto reader = ChunkReader::Open(path, AfterLastNewline, config);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Chunk chunk;
  std::string joined;
  uint64_t expected_line = 1;
  int chunks = 0;
  while (true) {
    auto more = (*reader)->Next(chunk);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    ++chunks;
    EXPECT_EQ(chunk.first_line, expected_line);
    EXPECT_EQ(chunk.base_offset, joined.size());
    ASSERT_GE(chunk.capacity(), chunk.size + kChunkPadding);
    std::string_view piece(chunk.data(), chunk.size);
    EXPECT_EQ(piece.back(), '\n');  // always whole lines
    for (size_t i = 0; i < kChunkPadding; ++i) EXPECT_EQ(chunk.data()[chunk.size + i], 0);
    expected_line += static_cast<uint64_t>(std::count(piece.begin(), piece.end(), '\n'));
    joined.append(piece);
  }
  EXPECT_EQ(joined, content);
  EXPECT_GT(chunks, 10);
  EXPECT_EQ((*reader)->stats().lines, 5000u);
  std::remove(path.c_str());
}

TEST(ChunkReaderTest, RecordLongerThanAChunkStaysWhole) {
  std::string big = "{\"x\":\"" + std::string(20000, 'a') + "\"}\n";
  std::string content = "{\"a\":1}\n" + big + "{\"b\":2}\n";
  std::string path = TempFile(content);
  ChunkReaderConfig config;
  config.chunk_bytes = 4096;
  auto reader = ChunkReader::Open(path, AfterLastNewline, config);
  ASSERT_TRUE(reader.ok());
  Chunk chunk;
  std::string joined;
  bool saw_big_whole = false;
  while (true) {
    auto more = (*reader)->Next(chunk);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    std::string_view piece(chunk.data(), chunk.size);
    if (piece.find(big) != std::string_view::npos) saw_big_whole = true;
    joined.append(piece);
  }
  EXPECT_TRUE(saw_big_whole);
  EXPECT_EQ(joined, content);
  std::remove(path.c_str());
}

TEST(ChunkReaderTest, OverLongRecordIsCutAtTheLimitAndReadingGoesOn) {
  std::string content = std::string(10000, 'z') + "\n{\"ok\":1}\n";
  std::string path = TempFile(content);
  ChunkReaderConfig config;
  config.chunk_bytes = 4096;
  config.max_record_bytes = 1024;
  auto reader = ChunkReader::Open(path, AfterLastNewline, config);
  ASSERT_TRUE(reader.ok());
  Chunk chunk;
  std::string joined;
  while (true) {
    auto more = (*reader)->Next(chunk);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    EXPECT_LE(chunk.size, config.chunk_bytes * 2 + config.max_record_bytes);
    joined.append(chunk.data(), chunk.size);
  }
  EXPECT_EQ(joined, content);
  std::remove(path.c_str());
}

TEST(ChunkReaderTest, MissingFileIsAnErrorNamingThePath) {
  auto reader = ChunkReader::Open("/nonexistent/flows.json", AfterLastNewline);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("/nonexistent/flows.json"), std::string::npos);
}

TEST(ChunkReaderTest, FileWithoutTrailingNewline) {
  std::string path = TempFile("{\"a\":1}\n{\"b\":2}");
  auto reader = ChunkReader::Open(path, AfterLastNewline);
  ASSERT_TRUE(reader.ok());
  Chunk chunk;
  auto more = (*reader)->Next(chunk);
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(std::string_view(chunk.data(), chunk.size), "{\"a\":1}\n{\"b\":2}");
  more = (*reader)->Next(chunk);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace flowlake

namespace flowlake {
namespace {

TEST(CountNewlinesTest, AllNewlinesDoNotOverflowALane) {
  std::string s(16 * 255 * 3 + 5, '\n');
  EXPECT_EQ(CountNewlines(s.data(), s.size()), s.size());
}

TEST(CountNewlinesTest, MatchesAByteLoopAtEveryLengthAndAlignment) {
  std::string s;
  for (int i = 0; i < 9000; ++i) s.push_back(i % 7 == 0 || i % 13 == 0 ? '\n' : char('a' + i % 26));
  for (size_t begin = 0; begin < 20; ++begin) {
    for (size_t len = 0; begin + len <= s.size(); len += (len < 100 ? 1 : 997)) {
      uint64_t expected = 0;
      for (size_t i = begin; i < begin + len; ++i) expected += s[i] == '\n';
      ASSERT_EQ(CountNewlines(s.data() + begin, len), expected) << begin << "+" << len;
    }
  }
}

}  // namespace
}  // namespace flowlake
