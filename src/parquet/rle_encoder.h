// The RLE / bit-packing hybrid encoding of Parquet's Encodings.md, used for
// definition levels (bit width 1) and dictionary indices.
//
//   encoded  := run*
//   run      := rle-run | bit-packed-run
//   rle-run  := varint(count << 1) value   (value in ceil(width/8) bytes, LE)
//   bit-packed-run := varint(groups << 1 | 1) groups*8 values packed LSB-first
//
// Choices (the format leaves them to the writer): a repeat of >= 8 equal
// values becomes an RLE run, after lending values to pad the literal run
// before it to a multiple of 8, if >= 8 remain; everything else is
// bit-packed; the last
// bit-packed run is padded with zero values, which readers ignore because
// they know how many values the page holds.
//
// These functions append to `out` and write no length prefix: data pages
// put a 4-byte length before definition levels and a 1-byte bit width before
// dictionary indices; that framing is the caller's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "parquet/byte_buffer.h"

namespace flowlake::parquet {

// Number of bits needed to store max_value: 0 for 0, 1 for 1, 2 for 2..3, ...
int BitWidth(uint64_t max_value);

// Encodes `values`, each < 2^bit_width, with 1 <= bit_width <= 32.
void AppendRleHybrid(std::span<const uint32_t> values, int bit_width, ByteBuffer* out);

// Encodes bytes that are each 0 or 1 (definition levels, validity bytes) with
// bit width 1. Faster than AppendRleHybrid on the same values.
void AppendRleHybridBits(std::span<const uint8_t> bits, ByteBuffer* out);

// Encodes `count` copies of `value` (< 2^bit_width) as one RLE run; the fast
// path for all-valid and all-null definition levels and 1-entry dictionaries.
void AppendRleRun(uint32_t value, size_t count, int bit_width, ByteBuffer* out);

}  // namespace flowlake::parquet
