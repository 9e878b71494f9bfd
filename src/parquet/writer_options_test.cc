#include "parquet/writer_options.h"

#include <gtest/gtest.h>

namespace flowlake::parquet {
namespace {

TEST(WriterOptions, DefaultsAreValid) {
  const WriterOptions o;
  EXPECT_TRUE(o.Validate().ok());
  EXPECT_EQ(o.compression, Compression::kZstd);
  EXPECT_EQ(o.zstd_level, 2);
}

TEST(WriterOptions, ZstdLevelRange) {
  WriterOptions o;
  for (int level : {1, 19, 22, -1, -5}) {
    o.zstd_level = level;
    EXPECT_TRUE(o.Validate().ok()) << level;
  }
  for (int level : {0, 23, 100}) {
    o.zstd_level = level;
    const Status st = o.Validate();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << level;
    EXPECT_NE(st.message().find("zstd_level " + std::to_string(level)), std::string::npos)
        << st.message();
  }
}

TEST(WriterOptions, PageAndDictionarySizes) {
  WriterOptions o;
  o.page_target_bytes = 63;
  EXPECT_NE(o.Validate().message().find("page_target_bytes 63"), std::string::npos);
  o.page_target_bytes = 64;
  EXPECT_TRUE(o.Validate().ok());
  o.page_target_bytes = (size_t{1} << 30) + 1;
  EXPECT_FALSE(o.Validate().ok());
  o = WriterOptions();
  o.dictionary_max_bytes = (size_t{1} << 30) + 1;
  EXPECT_NE(o.Validate().message().find("dictionary_max_bytes"), std::string::npos);
  o.dictionary_max_bytes = 0;  // allowed: dictionaries never fit, PLAIN everywhere
  EXPECT_TRUE(o.Validate().ok());
}

TEST(WriterOptions, EmptyMetadataKey) {
  WriterOptions o;
  o.key_value_metadata = {{"a", "1"}, {"", "orphan"}};
  const Status st = o.Validate();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("orphan"), std::string::npos);
}

TEST(ParseCompression, KnownNames) {
  EXPECT_EQ(ParseCompression("zstd").value(), Compression::kZstd);
  EXPECT_EQ(ParseCompression("snappy").value(), Compression::kSnappy);
  EXPECT_EQ(ParseCompression("none").value(), Compression::kNone);
  for (Compression c : {Compression::kZstd, Compression::kSnappy, Compression::kNone}) {
    EXPECT_EQ(ParseCompression(CompressionName(c)).value(), c);
  }
}

TEST(ParseCompression, ErrorNamesTheValue) {
  for (const char* bad : {"lz4", "ZSTD", "", "gzip "}) {
    const Result<Compression> r = ParseCompression(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "unknown parquet compression '" + std::string(bad) +
                                        "' (expected zstd, snappy or none)");
  }
}

}  // namespace
}  // namespace flowlake::parquet
