#include "app/analysis_config.h"

namespace flowlake {

DetectorConfig AnalysisConfig::SyncedDetect() const {
  DetectorConfig d = detect;
  d.window_ms = rollups.window_ms;
  d.lateness_ms = rollups.lateness_ms;
  d.idle_timeout_ms = rollups.idle_timeout_ms;
  d.max_spread_ms = rollups.max_spread_ms;
  return d;
}

void AnalysisConfig::SetMemoryBudget(uint64_t bytes) {
  rollups.max_state_bytes = bytes / 2;
  detect.max_state_bytes = bytes - bytes / 2;
}

Status AnalysisConfig::Validate() const {
  FLOWLAKE_RETURN_IF_ERROR(rollups.Validate());
  FLOWLAKE_RETURN_IF_ERROR(SyncedDetect().Validate());
  if (max_pending_batches == 0) {
    return Status::InvalidArgument("analysis: max_pending_batches must be at least 1");
  }
  if (tick_interval_ms <= 0) {
    return Status::InvalidArgument("analysis: tick_interval_ms must be positive");
  }
  return Status::Ok();
}

}  // namespace flowlake
