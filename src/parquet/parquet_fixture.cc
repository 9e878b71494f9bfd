// parquet_fixture DIR: writes the Parquet files that
// test/parquet_duckdb.test.mjs reads back with DuckDB.
//
// Every value is a function of the row number i (0-based over the file), so
// the test recomputes expected rows and statistics independently. The
// formulas, mirrored in the test:
//   id        INT64      i
//   i32       INT32      null if i%7==3; INT32_MIN if i%11==0; INT32_MAX if
//                        i%11==1; else (i*7919)%20001 - 10000
//   i64       INT64      null if i%5==1; INT64_MIN if i%13==0; INT64_MAX if
//                        i%13==2; else (i-1500)*1000000007
//   dbl       DOUBLE     null if i%9==4; NaN if i%17==0; -0.0 if i%17==1;
//                        +0.0 if i%17==2; else (i-1000)/8
//   ts        TIMESTAMP  null if i%6==5; else 1700000000000 + 1000*i + i%3 (ms, UTC)
//   s_low     STRING     null if i%10==9; else LOW[i%5]
//   s_high    STRING     null if i%4==2; else "row-<i>-<hex((i*2654435761) mod 2^32)>"
//   s_long    STRING     null if i%8==7; else "long/" + "é"*40 + "/" + i (6 digits, zero-padded)
//   port      INT32      [80, 443, 53, 8080][i%4]
//   all_null  STRING     always null
//   const_i64 INT64      42
//   dzero     DOUBLE     null if i%4==0; else +0.0
//   dnegzero  DOUBLE     null if i%4==0; else -0.0
//   dnan      DOUBLE     null if i%4==0; else NaN
//   flag      BOOLEAN    null if i%5==2; else (i*i)%3 == 1
// LOW = ["alpha", "βeta", "日本語", "", "emoji 🚀"] (index 3: empty, not null).
//
// Files (row groups of 1000, 1000, 500 and 1 rows: 2501 rows):
//   types_{zstd,snappy,none}.parquet  256-byte page target: many pages per chunk
//   types_default.parquet             default options plus key/value metadata
//   plain_zstd.parquet                dictionary disabled
//   empty.parquet                     the schema, no row groups
//   flows.parquet                     100000 synthetic flows (size comparison)
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "core/column_batch.h"
#include "core/flow_schema.h"
#include "parquet/file_writer.h"
#include "parquet/synthetic_flows.h"

namespace flowlake::parquet {
namespace {

const Schema& FixtureSchema() {
  using T = ColumnType;
  static const Schema schema({
      {"id", T::kInt64},
      {"i32", T::kInt32},
      {"i64", T::kInt64},
      {"dbl", T::kDouble},
      {"ts", T::kTimestampMs},
      {"s_low", T::kString},
      {"s_high", T::kString},
      {"s_long", T::kString},
      {"port", T::kInt32},
      {"all_null", T::kString},
      {"const_i64", T::kInt64},
      {"dzero", T::kDouble},
      {"dnegzero", T::kDouble},
      {"dnan", T::kDouble},
      {"flag", T::kBool},
  });
  return schema;
}

void FillRow(int64_t i, ColumnBatch* b) {
  static const char* kLow[] = {"alpha", "βeta", "日本語", "", "emoji 🚀"};
  b->column(0).AppendInt64(i);

  Column& i32 = b->column(1);
  if (i % 7 == 3)
    i32.AppendNull();
  else if (i % 11 == 0)
    i32.AppendInt32(std::numeric_limits<int32_t>::min());
  else if (i % 11 == 1)
    i32.AppendInt32(std::numeric_limits<int32_t>::max());
  else
    i32.AppendInt32(static_cast<int32_t>((i * 7919) % 20001 - 10000));

  Column& i64 = b->column(2);
  if (i % 5 == 1)
    i64.AppendNull();
  else if (i % 13 == 0)
    i64.AppendInt64(std::numeric_limits<int64_t>::min());
  else if (i % 13 == 2)
    i64.AppendInt64(std::numeric_limits<int64_t>::max());
  else
    i64.AppendInt64((i - 1500) * 1000000007);

  Column& dbl = b->column(3);
  if (i % 9 == 4)
    dbl.AppendNull();
  else if (i % 17 == 0)
    dbl.AppendDouble(std::numeric_limits<double>::quiet_NaN());
  else if (i % 17 == 1)
    dbl.AppendDouble(-0.0);
  else if (i % 17 == 2)
    dbl.AppendDouble(0.0);
  else
    dbl.AppendDouble(static_cast<double>(i - 1000) / 8);

  Column& ts = b->column(4);
  if (i % 6 == 5)
    ts.AppendNull();
  else
    ts.AppendInt64(1700000000000 + 1000 * i + i % 3);

  Column& s_low = b->column(5);
  if (i % 10 == 9)
    s_low.AppendNull();
  else
    s_low.AppendString(kLow[i % 5]);

  Column& s_high = b->column(6);
  if (i % 4 == 2) {
    s_high.AppendNull();
  } else {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "%x",
                  static_cast<unsigned>((static_cast<uint64_t>(i) * 2654435761u) & 0xFFFFFFFFu));
    s_high.AppendString("row-" + std::to_string(i) + "-" + hex);
  }

  Column& s_long = b->column(7);
  if (i % 8 == 7) {
    s_long.AppendNull();
  } else {
    std::string s = "long/";
    for (int k = 0; k < 40; ++k) s += "é";
    char num[16];
    std::snprintf(num, sizeof(num), "/%06d", static_cast<int>(i));
    s_long.AppendString(s + num);
  }

  static const int kPorts[] = {80, 443, 53, 8080};
  b->column(8).AppendInt32(kPorts[i % 4]);
  b->column(9).AppendNull();
  b->column(10).AppendInt64(42);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (i % 4 == 0) {
    b->column(11).AppendNull();
    b->column(12).AppendNull();
    b->column(13).AppendNull();
  } else {
    b->column(11).AppendDouble(0.0);
    b->column(12).AppendDouble(-0.0);
    b->column(13).AppendDouble(nan);
  }
  if (i % 5 == 2) {
    b->column(14).AppendNull();
  } else {
    b->column(14).AppendBool(i * i % 3 == 1);
  }
}

Status WriteTypes(const std::string& path, const WriterOptions& options) {
  FLOWLAKE_ASSIGN_OR_RETURN(auto file, NewPosixWritableFile(path));
  FLOWLAKE_ASSIGN_OR_RETURN(auto writer,
                            FileWriter::Create(std::move(file), FixtureSchema(), options));
  ColumnBatch batch(FixtureSchema());
  int64_t i = 0;
  for (int64_t rows : {1000, 1000, 500, 1}) {
    batch.Clear();
    for (int64_t k = 0; k < rows; ++k) FillRow(i++, &batch);
    FLOWLAKE_RETURN_IF_ERROR(writer->WriteRowGroup(batch));
  }
  return writer->Finish().status();
}

Status WriteEmpty(const std::string& path) {
  FLOWLAKE_ASSIGN_OR_RETURN(auto file, NewPosixWritableFile(path));
  FLOWLAKE_ASSIGN_OR_RETURN(auto writer, FileWriter::Create(std::move(file), FixtureSchema(), {}));
  return writer->Finish().status();
}

Status WriteFlows(const std::string& path) {
  FLOWLAKE_ASSIGN_OR_RETURN(auto file, NewPosixWritableFile(path));
  FLOWLAKE_ASSIGN_OR_RETURN(auto writer, FileWriter::Create(std::move(file), FlowSchema(), {}));
  FlowBatch batch;
  FillSyntheticFlows(100000, 7, 1764579600000, &batch);
  FLOWLAKE_RETURN_IF_ERROR(writer->WriteRowGroup(batch));
  return writer->Finish().status();
}

Status Run(const std::string& dir) {
  FLOWLAKE_RETURN_IF_ERROR(CreateDirectories(dir));
  WriterOptions small_pages;
  small_pages.page_target_bytes = 256;
  small_pages.sync_on_finish = false;
  for (Compression c : {Compression::kZstd, Compression::kSnappy, Compression::kNone}) {
    small_pages.compression = c;
    FLOWLAKE_RETURN_IF_ERROR(
        WriteTypes(dir + "/types_" + std::string(CompressionName(c)) + ".parquet", small_pages));
  }
  WriterOptions defaults;
  defaults.key_value_metadata = {{"flowlake.fixture", "types"}, {"k2", "v2"}};
  FLOWLAKE_RETURN_IF_ERROR(WriteTypes(dir + "/types_default.parquet", defaults));
  WriterOptions plain;
  plain.dictionary = false;
  FLOWLAKE_RETURN_IF_ERROR(WriteTypes(dir + "/plain_zstd.parquet", plain));
  FLOWLAKE_RETURN_IF_ERROR(WriteEmpty(dir + "/empty.parquet"));
  return WriteFlows(dir + "/flows.parquet");
}

}  // namespace
}  // namespace flowlake::parquet

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: parquet_fixture DIR\n");
    return 2;
  }
  const flowlake::Status st = flowlake::parquet::Run(argv[1]);
  if (!st.ok()) {
    std::fprintf(stderr, "parquet_fixture: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
