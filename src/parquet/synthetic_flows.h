// Synthetic flow records for the Parquet benchmark and the size check: a
// deterministic, roughly realistic mix (TCP/UDP/ICMP, DNS/HTTP/TLS columns
// filled only for their flows, skewed host and port popularity).
//
// Test-only code: linked into parquet_bench and parquet_fixture, never into
// the product.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/flow_schema.h"

namespace flowlake::parquet {

// Clears `batch` and fills it with `rows` flows derived from `seed`; flows
// start at `start_ms` plus about 1 ms per row.
void FillSyntheticFlows(size_t rows, uint64_t seed, int64_t start_ms, FlowBatch* batch);

}  // namespace flowlake::parquet
