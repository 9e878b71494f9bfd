// Parquet writer throughput on flow-shaped data (FlowSchema, 46 columns).
//
//   BM_EncodeRowGroup/<codec>: encode + compress one 100k-row row group
//     into a sink that only counts bytes (the writer's own cost).
//   BM_WriteFile/<codec>: 10 row groups of 100k rows to a file in /tmp,
//     footer included, without fdatasync.
// Reported: items_per_second = rows/s on one core, bytes_per_row = output size.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "core/flow_schema.h"
#include "parquet/file_writer.h"
#include "parquet/synthetic_flows.h"

namespace flowlake::parquet {
namespace {

constexpr size_t kRows = 100000;

const FlowBatch& Batch() {
  static const FlowBatch batch = [] {
    FlowBatch b;
    FillSyntheticFlows(kRows, 7, 1764579600000, &b);
    return b;
  }();
  return batch;
}

class CountingFile final : public WritableFile {
 public:
  Status Append(std::string_view data) override {
    size_ += data.size();
    return Status::Ok();
  }
  Status Sync() override { return Status::Ok(); }
  Status Close() override { return Status::Ok(); }
  uint64_t Size() const override { return size_; }

 private:
  uint64_t size_ = 0;
};

WriterOptions Options(int64_t codec) {
  WriterOptions o;
  o.compression = static_cast<Compression>(codec);
  o.sync_on_finish = false;
  return o;
}

void SetLabel(benchmark::State& state) {
  state.SetLabel(std::string(CompressionName(static_cast<Compression>(state.range(0)))));
}

void BM_EncodeRowGroup(benchmark::State& state) {
  const FlowBatch& batch = Batch();
  auto writer =
      FileWriter::Create(std::make_unique<CountingFile>(), FlowSchema(), Options(state.range(0)));
  if (!writer.ok()) return state.SkipWithError(writer.status().ToString().c_str());
  uint64_t start = (*writer)->bytes_written();
  uint64_t bytes = 0;
  for (auto _ : state) {
    start = (*writer)->bytes_written();
    const Status st = (*writer)->WriteRowGroup(batch);
    if (!st.ok()) return state.SkipWithError(st.ToString().c_str());
    bytes = (*writer)->bytes_written() - start;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
  state.counters["bytes_per_row"] = static_cast<double>(bytes) / kRows;
  SetLabel(state);
}

void BM_WriteFile(benchmark::State& state) {
  const FlowBatch& batch = Batch();
  const std::string path = "/tmp/flowlake_parquet_bench.parquet";
  uint64_t bytes = 0;
  for (auto _ : state) {
    auto file = NewPosixWritableFile(path);
    if (!file.ok()) return state.SkipWithError(file.status().ToString().c_str());
    auto writer =
        FileWriter::Create(std::move(file).value(), FlowSchema(), Options(state.range(0)));
    if (!writer.ok()) return state.SkipWithError(writer.status().ToString().c_str());
    for (int g = 0; g < 10; ++g) {
      const Status st = (*writer)->WriteRowGroup(batch);
      if (!st.ok()) return state.SkipWithError(st.ToString().c_str());
    }
    auto summary = (*writer)->Finish();
    if (!summary.ok()) return state.SkipWithError(summary.status().ToString().c_str());
    bytes = summary->bytes;
  }
  std::remove(path.c_str());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 10 * kRows));
  state.counters["bytes_per_row"] = static_cast<double>(bytes) / (10 * kRows);
  SetLabel(state);
}

constexpr int64_t kNone = static_cast<int64_t>(Compression::kNone);
constexpr int64_t kSnappy = static_cast<int64_t>(Compression::kSnappy);
constexpr int64_t kZstd = static_cast<int64_t>(Compression::kZstd);

BENCHMARK(BM_EncodeRowGroup)->Arg(kZstd)->Arg(kSnappy)->Arg(kNone)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteFile)->Arg(kZstd)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace flowlake::parquet

BENCHMARK_MAIN();
