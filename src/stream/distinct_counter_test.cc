#include "stream/distinct_counter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "stream/hash.h"

namespace flowlake {
namespace {

uint64_t Value(uint64_t seed, uint64_t i) { return HashU64((seed << 40) + i); }

DistinctCounter Fill(uint64_t seed, uint64_t first, uint64_t end,
                     DistinctCounterConfig config = {}) {
  DistinctCounter c(config);
  for (uint64_t i = first; i < end; ++i) c.Add(Value(seed, i));
  return c;
}

TEST(DistinctCounterConfigTest, Validate) {
  EXPECT_TRUE(DistinctCounterConfig{}.Validate().ok());
  EXPECT_EQ(DistinctCounterConfig{.precision = 3}.Validate().message(),
            "distinct counter: precision 3 outside [4, 18]");
  EXPECT_EQ((DistinctCounterConfig{.precision = 4, .exact_limit = 17}.Validate().message()),
            "distinct counter: exact_limit 17 above 2^precision = 16");
}

TEST(DistinctCounterTest, ExactUpToTheBoundThenHyperLogLog) {
  DistinctCounter c;
  EXPECT_TRUE(c.is_exact());
  EXPECT_EQ(c.Count(), 0u);
  for (uint64_t i = 0; i < 256; ++i) {
    c.Add(Value(1, i));
    c.Add(Value(1, i));  // duplicates count once
    ASSERT_TRUE(c.is_exact()) << i;
    ASSERT_EQ(c.Count(), i + 1);
  }
  c.Add(Value(1, 0));  // a duplicate at the bound does not switch
  EXPECT_TRUE(c.is_exact());
  c.Add(Value(1, 256));  // the 257th distinct value does
  ASSERT_FALSE(c.is_exact());
  EXPECT_TRUE(c.exact_hashes().empty());
  // The switch keeps every hash: the sketch equals one fed all 257 values.
  HyperLogLog direct;
  for (uint64_t i = 0; i <= 256; ++i) direct.Add(Value(1, i));
  EXPECT_EQ(*c.hyperloglog(), direct);
  EXPECT_NEAR(c.Estimate(), 257, 3 * 0.011 * 257);
}

TEST(DistinctCounterTest, CountFarPastTheBound) {
  for (uint64_t n : {1'000u, 10'000u, 100'000u}) {
    const DistinctCounter c = Fill(2, 0, n);
    EXPECT_LT(std::abs(c.Estimate() / static_cast<double>(n) - 1), 3 * 1.04 / 64) << n;
    EXPECT_EQ(c.Count(), static_cast<uint64_t>(std::llround(c.Estimate())));
  }
}

TEST(DistinctCounterTest, ExactPlusExactStaysExactUnderTheBound) {
  DistinctCounter a = Fill(3, 0, 150);
  ASSERT_TRUE(a.Merge(Fill(3, 100, 256)).ok());  // overlap 100..149
  EXPECT_TRUE(a.is_exact());
  EXPECT_EQ(a.Count(), 256u);
  EXPECT_EQ(a, Fill(3, 0, 256));
}

TEST(DistinctCounterTest, ExactPlusExactOverTheBoundBecomesHyperLogLog) {
  DistinctCounter a = Fill(4, 0, 200);
  ASSERT_TRUE(a.Merge(Fill(4, 150, 400)).ok());
  ASSERT_FALSE(a.is_exact());
  EXPECT_EQ(a, Fill(4, 0, 400));  // same registers as feeding all 400
  EXPECT_NEAR(a.Estimate(), 400, 3 * 0.011 * 400);
}

TEST(DistinctCounterTest, MixedMergesMatchFeedingEverything) {
  const DistinctCounter exact = Fill(5, 0, 100), big = Fill(5, 50, 5'000);
  DistinctCounter e_b = exact, b_e = big;
  ASSERT_TRUE(e_b.Merge(big).ok());
  ASSERT_TRUE(b_e.Merge(exact).ok());
  const DistinctCounter whole = Fill(5, 0, 5'000);
  EXPECT_EQ(e_b, whole);
  EXPECT_EQ(b_e, whole);
  EXPECT_EQ(e_b.Serialize(), whole.Serialize());
}

TEST(DistinctCounterTest, MergeIsCommutativeAssociativeIdempotent) {
  // Small and large pieces so that the order decides when each side switches.
  const DistinctCounter parts[] = {Fill(6, 0, 120), Fill(6, 100, 240), Fill(7, 0, 3'000),
                                   Fill(6, 230, 260), DistinctCounter()};
  for (const auto& a : parts) {
    for (const auto& b : parts) {
      DistinctCounter ab = a, ba = b;
      ASSERT_TRUE(ab.Merge(b).ok());
      ASSERT_TRUE(ba.Merge(a).ok());
      EXPECT_EQ(ab, ba);
      DistinctCounter abb = ab;
      ASSERT_TRUE(abb.Merge(b).ok());
      EXPECT_EQ(abb, ab);
      for (const auto& c : parts) {
        DistinctCounter ab_c = ab, bc = b, a_bc = a;
        ASSERT_TRUE(ab_c.Merge(c).ok());
        ASSERT_TRUE(bc.Merge(c).ok());
        ASSERT_TRUE(a_bc.Merge(bc).ok());
        EXPECT_EQ(ab_c, a_bc);
      }
    }
  }
}

TEST(DistinctCounterTest, MergeRejectsOtherPrecision) {
  DistinctCounter a = Fill(8, 0, 10);
  const DistinctCounter before = a;
  const Status st = a.Merge(Fill(8, 0, 10, {.precision = 10}));
  EXPECT_EQ(st.message(), "distinct counter merge: precision 12 with 10");
  EXPECT_EQ(a, before);
}

TEST(DistinctCounterTest, SerializedForms) {
  DistinctCounter c;
  EXPECT_EQ(c.Serialize(), std::string("\x01\x01\x0c", 3));
  c.Add(0x0102030405060708ULL);
  c.Add(1);
  EXPECT_EQ(c.Serialize(), std::string("\x01\x01\x0c"
                                       "\x01\0\0\0\0\0\0\0"
                                       "\x08\x07\x06\x05\x04\x03\x02\x01",
                                       19));
  const DistinctCounter big = Fill(9, 0, 1'000);
  EXPECT_EQ(big.Serialize(), "\x02" + big.hyperloglog()->Serialize());
}

TEST(DistinctCounterTest, SerializeRoundTripIsByteExact) {
  for (const DistinctCounter& c : {DistinctCounter(), Fill(10, 0, 1), Fill(10, 0, 256),
                                   Fill(10, 0, 257), Fill(10, 0, 50'000)}) {
    const std::string bytes = c.Serialize();
    auto back = DistinctCounter::Deserialize(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, c);
    EXPECT_EQ(back->Serialize(), bytes);
    EXPECT_EQ(back->Count(), c.Count());
  }
}

TEST(DistinctCounterTest, DeserializeRejectsBadInput) {
  const std::string exact = Fill(11, 0, 3).Serialize();
  const std::string hll = Fill(11, 0, 1'000).Serialize();
  std::string unsorted = exact;
  std::swap_ranges(unsorted.begin() + 3, unsorted.begin() + 11, unsorted.begin() + 11);
  std::string duplicate = exact;
  std::copy(exact.begin() + 3, exact.begin() + 11, duplicate.begin() + 11);
  std::string bad_exact_version = exact;
  bad_exact_version[1] = 9;
  struct Case {
    std::string name;
    std::string bytes;
    StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {"empty", "", StatusCode::kCorruption, "distinct counter: empty"},
      {"tag", "\x03" + exact.substr(1), StatusCode::kCorruption,
       "distinct counter: unknown tag 0x03"},
      {"exact header", exact.substr(0, 2), StatusCode::kCorruption,
       "distinct counter: exact form of 2 bytes, shorter than its header"},
      {"exact version", bad_exact_version, StatusCode::kCorruption,
       "distinct counter: unknown exact format version 9"},
      {"exact length", exact.substr(0, exact.size() - 1), StatusCode::kCorruption,
       "distinct counter: exact form of 26 bytes is not 3 + 8n"},
      {"unsorted", unsorted, StatusCode::kCorruption,
       "distinct counter: exact hash 1 not above the one before it"},
      {"duplicate", duplicate, StatusCode::kCorruption,
       "distinct counter: exact hash 1 not above the one before it"},
      {"exact precision", Fill(11, 0, 3, {.precision = 10}).Serialize(),
       StatusCode::kInvalidArgument, "distinct counter: exact counter of precision 10, expected 12"},
      {"over the limit", Fill(11, 0, 300, {.exact_limit = 300}).Serialize(),
       StatusCode::kInvalidArgument, "distinct counter: 300 exact hashes, above exact_limit 256"},
      {"hll short", hll.substr(0, hll.size() - 1), StatusCode::kCorruption,
       "HyperLogLog: 4097 bytes, expected 4098 for precision 12"},
      {"hll precision", Fill(11, 0, 1'000, {.precision = 10}).Serialize(),
       StatusCode::kInvalidArgument, "distinct counter: sketch of precision 10, expected 12"},
  };
  for (const Case& c : cases) {
    auto r = DistinctCounter::Deserialize(c.bytes);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name;
    EXPECT_EQ(r.status().message(), c.message) << c.name;
  }
}

// The exact set is unordered inside (two hashes inline, then a hash table);
// Serialize() must still give the format's bytes: the hashes ascending,
// little-endian, whatever the order of the Adds, the hash 0 included.
TEST(DistinctCounterTest, SerializeIsSortedWhateverTheAddOrder) {
  for (const uint64_t n : {0u, 1u, 2u, 3u, 9u, 100u, 256u}) {
    std::vector<uint64_t> values;
    for (uint64_t i = 0; i < n; ++i) values.push_back(i == 1 ? 0 : Value(9, i));
    std::vector<uint64_t> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    std::string want = {'\x01', '\x01', '\x0c'};
    for (const uint64_t h : sorted) {
      for (int b = 0; b < 8; ++b) want.push_back(static_cast<char>((h >> (8 * b)) & 0xff));
    }
    DistinctCounter forward, backward;
    for (const uint64_t h : values) forward.Add(h);
    for (auto it = values.rbegin(); it != values.rend(); ++it) {
      backward.Add(*it);
      backward.Add(*it);
    }
    EXPECT_EQ(forward.Serialize(), want) << n;
    EXPECT_EQ(backward.Serialize(), want) << n;
    EXPECT_EQ(forward.exact_hashes(), sorted) << n;
    EXPECT_EQ(forward.Count(), n);
    EXPECT_TRUE(forward == backward) << n;
    auto back = DistinctCounter::Deserialize(want);
    ASSERT_TRUE(back.ok()) << n;
    EXPECT_TRUE(*back == forward) << n;
  }
}

// Up to three hashes (two inline and 0) are sorted without the table: every
// subset of {0, small, large} in every Add order, with Prefetch() between.
TEST(DistinctCounterTest, InlineHashesSerializeSortedInEveryAddOrder) {
  const std::vector<uint64_t> all = {0, 5, ~uint64_t{0} - 7};
  for (unsigned mask = 0; mask < 8; ++mask) {
    std::vector<uint64_t> values;
    for (unsigned i = 0; i < 3; ++i) {
      if ((mask & (1u << i)) != 0) values.push_back(all[i]);
    }
    std::string want = {'\x01', '\x01', '\x0c'};
    for (const uint64_t h : values) {  // `all` is ascending
      for (int b = 0; b < 8; ++b) want.push_back(static_cast<char>((h >> (8 * b)) & 0xff));
    }
    std::vector<uint64_t> order = values;
    do {
      DistinctCounter c;
      for (const uint64_t h : order) {
        c.Prefetch(h);
        c.Add(h);
      }
      EXPECT_EQ(c.Serialize(), want) << mask;
      EXPECT_EQ(c.Count(), values.size());
    } while (std::next_permutation(order.begin(), order.end()));
  }
}

TEST(DistinctCounterTest, CopiesAreIndependent) {
  DistinctCounter exact = Fill(4, 0, 10);
  DistinctCounter copy = exact;
  copy.Add(Value(4, 99));
  EXPECT_EQ(exact.Count(), 10u);
  EXPECT_EQ(copy.Count(), 11u);
  DistinctCounter sketch = Fill(4, 0, 1000);
  copy = sketch;
  copy.Add(Value(5, 1));
  copy.Add(Value(5, 2));
  EXPECT_FALSE(copy.is_exact());
  EXPECT_EQ(sketch, Fill(4, 0, 1000));
  EXPECT_TRUE(copy.Merge(copy).ok());  // merging itself changes nothing
  EXPECT_EQ(exact.Merge(exact).ok(), true);
  EXPECT_EQ(exact.Count(), 10u);
}

// The table sizes follow from the header's rule (two inline, then 8 slots of
// 8 bytes doubling at 3/4 full), and the returns of AddCountingHeap() add up
// to HeapBytes() at every step.
TEST(DistinctCounterTest, HeapBytesFollowTheTableAndTheSketch) {
  DistinctCounter c;
  EXPECT_EQ(c.HeapBytes(), 0u);
  int64_t total = 0;
  const auto add = [&](uint64_t i) {
    total += c.AddCountingHeap(Value(6, i));
    ASSERT_EQ(static_cast<int64_t>(c.HeapBytes()), total) << i;
  };
  total += c.AddCountingHeap(0);  // kept in has_zero_: no table
  add(0);
  add(1);
  add(1);  // a repeat
  EXPECT_EQ(c.HeapBytes(), 0u);  // two inline hashes and 0
  add(2);
  EXPECT_EQ(c.HeapBytes(), 8u * 8);
  add(3);
  add(4);  // 6 kept, 0 included: 3/4 of 8 slots
  EXPECT_EQ(c.HeapBytes(), 8u * 8);
  add(2);  // a repeat, though not of the last hash: no growth
  EXPECT_EQ(c.HeapBytes(), 8u * 8);
  add(5);  // the 7th would pass 3/4: 16 slots
  EXPECT_EQ(c.HeapBytes(), 16u * 8);
  for (uint64_t i = 6; i < 255; ++i) add(i);
  EXPECT_TRUE(c.is_exact());  // 256 kept, 0 included
  EXPECT_EQ(c.HeapBytes(), 512u * 8);
  add(255);  // the 257th: a HyperLogLog of 4096 registers instead
  EXPECT_FALSE(c.is_exact());
  EXPECT_EQ(c.HeapBytes(), sizeof(HyperLogLog) + 4096);
  add(1000);  // a sketch does not grow
  EXPECT_EQ(c.HeapBytes(), sizeof(HyperLogLog) + 4096);

  const DistinctCounter copy = c;
  EXPECT_EQ(copy.HeapBytes(), c.HeapBytes());
  const DistinctCounter moved = std::move(c);
  EXPECT_EQ(moved.HeapBytes(), sizeof(HyperLogLog) + 4096);
  EXPECT_EQ(Fill(6, 0, 3, {.precision = 4, .exact_limit = 2}).HeapBytes(),
            sizeof(HyperLogLog) + 16);
}

}  // namespace
}  // namespace flowlake
