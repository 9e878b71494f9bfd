// AnalysisConfig: the settings of the real-time analysis (rollups and
// detectors), shared by `flowlake ingest` and `flowlake run` so that both give
// the same results for the same flows.
//
// Plain values; Validate() at start-up.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "detect/detectors.h"
#include "stream/host_rollups.h"

namespace flowlake {

struct AnalysisConfig {
  bool enabled = true;
  // Windowing: window_ms, lateness_ms, idle_timeout_ms and max_spread_ms
  // here are also the detectors' (Synced() copies them), so rollups and
  // detectors agree on which flows are late.
  RollupConfig rollups;
  DetectorConfig detect;
  // Batches that may wait for an earlier one.
  size_t max_pending_batches = 16;
  // How often the stage's thread wakes to close windows of an idle stream.
  int64_t tick_interval_ms = 1000;
  // [analysis] max_memory_mb: memory for the open windows of the rollups and
  // the detectors; 0 means a quarter of service.memory_limit_mb (see
  // AnalysisMemoryBytes() in app/config.h). SetMemoryBudget() applies it.
  uint64_t max_memory_mb = 0;

  // Splits `bytes` between rollups.max_state_bytes and
  // detect.max_state_bytes (half each; 0: no limit). Over its half, a
  // component stops taking new hosts or keys: new hosts go to the "other"
  // record, new detector keys are not tracked, and both are counted.
  void SetMemoryBudget(uint64_t bytes);

  // The detector config with the windowing fields taken from `rollups`.
  DetectorConfig SyncedDetect() const;
  Status Validate() const;
};

}  // namespace flowlake
