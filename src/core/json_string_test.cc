#include "core/json_string.h"

#include <gtest/gtest.h>

namespace flowlake {
namespace {

std::string Json(std::string_view s) {
  std::string out = "x=";
  AppendJsonString(out, s);
  return out;
}

TEST(JsonStringTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Json(""), "x=\"\"");
  EXPECT_EQ(Json("plain é ✓"), "x=\"plain é ✓\"");
  EXPECT_EQ(Json("a\"b\\c"), "x=\"a\\\"b\\\\c\"");
  EXPECT_EQ(Json("\n\r\t"), "x=\"\\n\\r\\t\"");
  EXPECT_EQ(Json(std::string_view("\x00\x01\x1f\x7f", 4)), "x=\"\\u0000\\u0001\\u001f\x7f\"");
}

}  // namespace
}  // namespace flowlake
