// Ingest: the batch job. Reads nProbe JSON from a file or stdin, decodes it
// on every core, and writes the flows into the lake.
//
// Threads: the calling thread reads chunks of whole records; `threads`
// workers each decode a chunk into a FlowBatch and hand it to their own
// PartitionedWriter (so workers never share a file or a lock on the hot
// path). Rejected records go to one shared DeadLetterWriter. With analysis
// on, each written batch then goes to the AnalysisStage, which analyses the
// chunks in input order on its own thread.
//
// Memory: at most 2 chunks per worker are in flight, and each worker's
// writer buffers at most one row group per open partition.
#pragma once

#include <cstdint>
#include <string>

#include "app/analysis_stage.h"
#include "core/status.h"
#include "decode/nprobe_decoder.h"
#include "lake/partitioned_writer.h"
#include "sources/chunk_reader.h"

namespace flowlake {

struct IngestConfig {
  std::string input;  // path, or "-" for stdin
  LakeWriterConfig lake;
  DecoderConfig decoder;
  ChunkReaderConfig reader;
  // Rollups and detections of the input, written into the same lake
  // (rollups/, events/). On by default.
  AnalysisConfig analysis;
  unsigned threads = 0;  // 0: one per core
  Status Validate() const;
};

struct IngestSummary {
  uint64_t flows_read = 0;     // records seen: written + rejected
  uint64_t flows_written = 0;  // rows in committed lake files
  uint64_t rejected = 0;
  uint64_t files = 0;
  uint64_t row_groups = 0;
  uint64_t field_errors = 0;    // fields set to null for a wrong type
  uint64_t unknown_fields = 0;  // keys not in the mapping, ignored
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  // Analysis (zero when it is off).
  uint64_t rollup_records = 0;
  uint64_t events = 0;
  uint64_t late_flows = 0;
  // The analysis memory budget was reached (AnalysisStats).
  uint64_t rollup_windows_over_memory = 0;
  uint64_t detector_keys_over_memory = 0;
  double seconds = 0;
  // One line of JSON, the `flowlake ingest` summary.
  std::string ToJson() const;
};

// Runs the whole job. A Status error means the job failed (I/O); bad input
// is never an error here, it is counted and dead-lettered.
Result<IngestSummary> RunIngest(const IngestConfig& config);

// "20261204T161502Z-3fa9c2d1": time plus randomness, unique per run.
std::string NewRunId();

}  // namespace flowlake
