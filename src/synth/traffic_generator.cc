#include "synth/traffic_generator.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "synth/attack_scenario.h"
#include "synth/benign_scenario.h"
#include "synth/flow_record.h"
#include "synth/heavy_hitter_scenario.h"
#include "synth/network.h"
#include "synth/nprobe_json_encoder.h"
#include "synth/rng.h"

namespace flowlake::synth {

namespace {

constexpr int64_t kMaxSpanMs = 366LL * 24 * 3600 * 1000;
constexpr int64_t kMaxStartMs = 253402300799999LL - 2 * kMaxSpanMs;  // before 9999-12-31
constexpr uint32_t kMaxProbes = 64;
constexpr uint32_t kMaxBatch = 100000;
constexpr int64_t kMaxJitterMs = 1500;
constexpr size_t kChunkBytes = 1 << 20;
constexpr int64_t kWindowMs = AttackScenario::kWindowMs;
constexpr int64_t kMinAttackSpanMs = 2 * kWindowMs;  // always holds a whole minute

// Share of records written with seconds-only FIRST/LAST_SWITCHED.
constexpr double kSecondsTimestampShare = 0.05;
// Share of element-id records (and batch-mode records) with integers as strings.
constexpr double kNumbersAsStringsShare = 0.15;
constexpr double kBatchNumbersAsStringsShare = 0.10;

}  // namespace

Status TrafficConfig::Validate() const {
  if (span_ms < 1 || span_ms > kMaxSpanMs) {
    return Status::InvalidArgument("synth: span_ms " + std::to_string(span_ms) + " is outside [1, " +
                                   std::to_string(kMaxSpanMs) + "]");
  }
  if (start_ms < 0 || start_ms > kMaxStartMs) {
    return Status::InvalidArgument("synth: start_ms " + std::to_string(start_ms) + " is outside [0, " +
                                   std::to_string(kMaxStartMs) + "]");
  }
  if (probes < 1 || probes > kMaxProbes) {
    return Status::InvalidArgument("synth: probes " + std::to_string(probes) + " is outside [1, " +
                                   std::to_string(kMaxProbes) + "]");
  }
  if (batch_size > kMaxBatch) {
    return Status::InvalidArgument("synth: batch_size " + std::to_string(batch_size) + " is above " +
                                   std::to_string(kMaxBatch));
  }
  if (attacks && span_ms < kMinAttackSpanMs) {
    return Status::InvalidArgument("synth: span_ms " + std::to_string(span_ms) +
                                   " is too short for attacks (at least " + std::to_string(kMinAttackSpanMs) +
                                   ")");
  }
  switch (key_style) {
    case KeyStyle::kLabels:
    case KeyStyle::kElementIds:
    case KeyStyle::kMixed:
      break;
    default:
      return Status::InvalidArgument("synth: unknown key_style " +
                                     std::to_string(static_cast<int>(key_style)));
  }
  return Status::Ok();
}

TrafficGenerator::TrafficGenerator(TrafficConfig config)
    : config_(config),
      network_(std::make_unique<Network>(std::max<uint32_t>(1, config.probes))),
      benign_(std::make_unique<BenignScenario>(*network_)),
      encoder_(std::make_unique<NprobeJsonEncoder>()),
      flow_rng_(std::make_unique<Rng>(Mix64(config.seed, 0x666c6f77))),
      format_rng_(std::make_unique<Rng>(Mix64(config.seed, 0x666d7420))),
      record_(std::make_unique<FlowRecord>()) {
  assert(config_.Validate().ok());
  if (config_.attacks) {
    attacks_ = std::make_unique<AttackScenario>(*network_, config_.start_ms, config_.span_ms, config_.seed);
    heavy_hitters_ = std::make_unique<HeavyHitterScenario>(*network_, config_.seed);
    next_window_ms_ = (config_.start_ms + kWindowMs - 1) / kWindowMs * kWindowMs;
    end_window_ms_ = (config_.start_ms + config_.span_ms) / kWindowMs * kWindowMs;
  }
}

Result<std::unique_ptr<TrafficGenerator>> TrafficGenerator::Create(TrafficConfig config) {
  FLOWLAKE_RETURN_IF_ERROR(config.Validate());
  return std::make_unique<TrafficGenerator>(config);
}

TrafficGenerator::~TrafficGenerator() = default;
TrafficGenerator::TrafficGenerator(TrafficGenerator&&) noexcept = default;
TrafficGenerator& TrafficGenerator::operator=(TrafficGenerator&&) noexcept = default;

bool TrafficGenerator::Next(std::string& out) {
  if (!HasMore()) return false;
  if (config_.batch_size == 0) {
    AppendFlow(out);
    return true;
  }
  out.push_back('[');
  for (uint32_t i = 0; i < config_.batch_size && HasMore(); ++i) {
    if (i != 0) out.push_back(',');
    AppendFlow(out);
  }
  out.push_back(']');
  return true;
}

int64_t TrafficGenerator::BenignSlot(uint64_t n) const {
  // The export clock walks evenly through the span; each flow started a
  // little before its slot (probes export in start order, give or take).
  __extension__ using Uint128 = unsigned __int128;
  return config_.start_ms + static_cast<int64_t>(static_cast<Uint128>(config_.span_ms) * n / config_.flows);
}

bool TrafficGenerator::HasMore() {
  const bool benign_left = benign_generated_ < config_.flows;
  if (attacks_ == nullptr) return benign_left;
  // Load the next minute once this one is written and the benign clock (or,
  // with no benign flows left, the end) has reached it.
  const int64_t clock = benign_left ? BenignSlot(benign_generated_) : end_window_ms_;
  while (pending_next_ == pending_.size() && next_window_ms_ < end_window_ms_ && next_window_ms_ <= clock) {
    pending_.clear();
    pending_next_ = 0;
    heavy_hitters_->AppendFlows(next_window_ms_, &pending_);
    attacks_->AppendFlows(next_window_ms_, &pending_);
    std::stable_sort(pending_.begin(), pending_.end(), [](const ScheduledFlow& a, const ScheduledFlow& b) {
      return a.flow.start_ms < b.flow.start_ms;
    });
    next_window_ms_ += kWindowMs;
  }
  return benign_left || pending_next_ < pending_.size();
}

void TrafficGenerator::AppendFlow(std::string& out) {
  const bool benign_left = benign_generated_ < config_.flows;
  const int64_t slot = benign_left ? BenignSlot(benign_generated_) : 0;
  if (pending_next_ < pending_.size() && (!benign_left || pending_[pending_next_].flow.start_ms <= slot)) {
    const ScheduledFlow& scheduled = pending_[pending_next_++];
    last_flow_ = &scheduled.flow;
    last_scenario_ = scheduled.scenario;
    Encode(scheduled.flow, out);
    return;
  }
  const int64_t jitter = flow_rng_->Between(0, std::min(kMaxJitterMs, slot - config_.start_ms));
  const uint32_t probe = network_->PickProbe(*flow_rng_);
  benign_->Generate(probe, slot - jitter, *flow_rng_, record_.get());
  ++benign_generated_;
  last_flow_ = record_.get();
  last_scenario_ = benign_->name();
  Encode(*record_, out);
}

void TrafficGenerator::Encode(const FlowRecord& flow, std::string& out) {
  RecordFormat format;
  switch (config_.key_style) {
    case TrafficConfig::KeyStyle::kLabels: format.element_ids = false; break;
    case TrafficConfig::KeyStyle::kElementIds: format.element_ids = true; break;
    case TrafficConfig::KeyStyle::kMixed: format.element_ids = format_rng_->Chance(0.5); break;
  }
  const double quoted = format.element_ids ? kNumbersAsStringsShare
                        : config_.batch_size > 0 ? kBatchNumbersAsStringsShare
                                                 : 0.0;
  format.numbers_as_strings = format_rng_->Chance(quoted);
  format.seconds_timestamps = format_rng_->Chance(kSecondsTimestampShare);
  encoder_->Encode(flow, network_->probe(flow.probe), format, &out);
  ++generated_;
}

Status WriteNprobeJson(const TrafficConfig& config, const ChunkSink& sink) {
  FLOWLAKE_RETURN_IF_ERROR(config.Validate());
  TrafficGenerator generator(config);
  std::string chunk;
  chunk.reserve(kChunkBytes + 64 * 1024);
  while (generator.Next(chunk)) {
    chunk.push_back('\n');
    if (chunk.size() >= kChunkBytes) {
      FLOWLAKE_RETURN_IF_ERROR(sink(chunk));
      chunk.clear();
    }
  }
  if (!chunk.empty()) FLOWLAKE_RETURN_IF_ERROR(sink(chunk));
  return Status::Ok();
}

Status WriteNprobeJson(const TrafficConfig& config, std::FILE* out) {
  return WriteNprobeJson(config, [out](std::string_view chunk) -> Status {
    if (std::fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size()) {
      return Status::IoError(std::string("synth: writing generated flows: ") + std::strerror(errno));
    }
    return Status::Ok();
  });
}

}  // namespace flowlake::synth
