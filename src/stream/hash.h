// Stable 64-bit hashes of the values the distinct counters count.
//
// The hash is part of the sketch format (docs/rollup-sketches.md): sketches
// written by different processes or releases merge only if they hashed the
// same value to the same 64 bits. Changing these functions is a format
// change. Values do not depend on the host's byte order.
//
// Construction (our own, no vendored code): HashBytes reads the input as
// little-endian 64-bit words, folds each into the state with a multiply,
// rotate and multiply (the shape of MurmurHash3's block step), and ends with
// the MurmurHash3 fmix64 finalizer so that every input bit reaches the top
// bits, which HyperLogLog uses as the register index. HashU64 is the
// splitmix64 finalizer. Not cryptographic: an attacker who controls the
// values can make them collide.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace flowlake {

// MurmurHash3's fmix64: a bijection on 64 bits with full avalanche.
uint64_t Fmix64(uint64_t x);

// The splitmix64 output function of x: for integers (ports, ASNs, ...).
uint64_t HashU64(uint64_t x);

// Any byte string, e.g. an IP address as text ("10.0.0.1").
uint64_t HashBytes(std::string_view bytes);

// A 16-byte address (IPv4 as ::ffff:a.b.c.d) and a port, e.g. for
// "distinct peers" or "distinct (peer, port)" counts.
uint64_t HashAddressPort(const std::array<uint8_t, 16>& address, uint16_t port);

}  // namespace flowlake
