// HeavyHitterScenario: benign hosts that are busy enough to look like
// attacks to a careless detector, for `flowlake generate --attacks`.
//
// All three live in site 0 (the busiest probe) and run in every whole minute
// of the span; each stays below every detector threshold, and each is a near
// miss for one of them:
//  * web server: intranet web server 0 answers 120 TLS connections a minute
//    on 443 from ~80 distinct workstations, every one a full handshake
//    (SYN and ACK seen): not a SYN flood (no SYN-only flows), far from
//    volumetric (a few MB a minute) and from a horizontal scan (many
//    sources, one dst).
//  * backup job: in the first 10 minutes of every half hour, database 0
//    writes ~1.1 GB a minute over SMB (2 streams) to file server 1: about
//    the exfiltration volume, but internal->internal. ~12.7k packets/s
//    (0.63x volumetric's 20k, at most 0.7x): the file server also has 10+
//    benign SMB clients a minute, so the packet rate, not the source count,
//    is what keeps it under the volumetric rule.
//  * DNS resolver: domain controller 0 forwards 150 queries a minute to
//    public resolvers, ~60 of them for google.com names (over the DNS
//    tunnel's 50 queries per domain), but short, low-entropy names: not a
//    DNS tunnel.
// About 270 flows a minute (~33k over the default 2 h, on top of --flows).
// The benign mix (BenignScenario) keeps its output untouched: these are
// added only with --attacks.
//
// Contract: immutable after construction; `network` must outlive this.
#pragma once

#include <cstdint>
#include <vector>

#include "synth/distributions.h"
#include "synth/network.h"
#include "synth/scenario.h"

namespace flowlake::synth {

class HeavyHitterScenario {
 public:
  static constexpr uint32_t kWebFlowsPerMinute = 120;
  static constexpr uint32_t kResolverQueriesPerMinute = 150;
  static constexpr uint32_t kBackupStreams = 2;
  static constexpr uint64_t kBackupBytesPerStream = 550'000'000;  // per minute, +-10%

  HeavyHitterScenario(const Network& network, uint64_t seed);

  // Appends the heavy hitters' flows for the whole minute starting at
  // `window_start_ms` (a multiple of 60 s), unsorted, labelled
  // "benign.web_server", "benign.backup" or "benign.dns_resolver". A pure
  // function of the seed and the window.
  void AppendFlows(int64_t window_start_ms, std::vector<ScheduledFlow>* out) const;

 private:
  const Network& network_;
  uint64_t seed_;
  WeightedTable resolver_names_;  // over every org host name, by org weight
  std::vector<std::string_view> names_;
};

}  // namespace flowlake::synth
