// TopicPartition: names one Kafka partition. Shared by the Kafka source and
// the lake's commit log, which records offsets per partition.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace flowlake {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
  // "netflows/3"
  std::string ToString() const { return topic + "/" + std::to_string(partition); }
};

}  // namespace flowlake
