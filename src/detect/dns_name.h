// DNS names for the dns_tunnel detector: the registered domain a query
// belongs to, and whether a query looks like data smuggled in its labels.
//
// All functions are pure, thread-safe and allocation-free.
#pragma once

#include <cstddef>
#include <string_view>

namespace flowlake {

// The registered domain of `query`: its last two labels, or its last three
// when the last two are a known second-level public suffix ("co.uk",
// "com.au", ...). A trailing dot is ignored and the result is a view into
// `query` (case is kept: callers that compare should lower-case first; DNS
// tunnels use one spelling). A name with fewer labels than that is returned
// whole; "" for "".
//
// The suffix list is a small built-in approximation of the Public Suffix
// List (https://publicsuffix.org): the common country second levels
// (co/com/net/org/gov/ac/edu + a ccTLD). Names under a suffix it does not
// know are cut one label too short (e.g. "example.gov.pl" gives "gov.pl"),
// which merges their tunnels into one key but never splits one.
std::string_view RegisteredDomain(std::string_view query);

// Shannon entropy of the byte distribution of `label`, in bits per
// character (0 for "" and for a label of one repeated byte; at most
// log2(size)).
double LabelEntropyBits(std::string_view label);

// Labels at least this long are checked for entropy; shorter ones carry too
// few characters for the estimate to mean anything.
inline constexpr size_t kEntropyMinLabel = 20;

// True if some label left of the registered domain is longer than
// `long_label` characters, or is at least kEntropyMinLabel characters long
// with LabelEntropyBits() >= `entropy_bits`.
bool IsSuspiciousQuery(std::string_view query, size_t long_label, double entropy_bits);

}  // namespace flowlake
