#include "decode/nprobe_fields.h"

#include <array>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace flowlake {
namespace {
using K = FieldKind;
using F = NprobeField;
}  // namespace

namespace internal {
// Ids checked against nProbe's `nprobe -H` template list (NetFlow v9 column;
// ntop fields are 57472 + their IPFIX id under PEN 35632).
extern const NprobeFieldInfo kFieldTable[kNprobeFieldCount] = {
    {F::kUnknown, "", 0, K::kString, kProbe},
    {F::kProbeId, "PROBEID", 0, K::kString, kProbe},
    {F::kExporterIpv4, "EXPORTER_IPV4_ADDRESS", 130, K::kIpv4, kExporterIp},
    {F::kExporterIpv6, "EXPORTER_IPV6_ADDRESS", 131, K::kIpv6, kExporterIp},
    {F::kIpv4Src, "IPV4_SRC_ADDR", 8, K::kIpv4, kSrcIp},
    {F::kIpv6Src, "IPV6_SRC_ADDR", 27, K::kIpv6, kSrcIp},
    {F::kIpv4Dst, "IPV4_DST_ADDR", 12, K::kIpv4, kDstIp},
    {F::kIpv6Dst, "IPV6_DST_ADDR", 28, K::kIpv6, kDstIp},
    {F::kL4SrcPort, "L4_SRC_PORT", 7, K::kInt32, kSrcPort},
    {F::kL4DstPort, "L4_DST_PORT", 11, K::kInt32, kDstPort},
    {F::kProtocol, "PROTOCOL", 4, K::kInt32, kProtocol},
    {F::kIpProtocolVersion, "IP_PROTOCOL_VERSION", 60, K::kInt32, kIpVersion},
    {F::kL7Proto, "L7_PROTO", 57590, K::kL7Proto, kL7Master},
    {F::kL7ProtoName, "L7_PROTO_NAME", 57591, K::kString, kL7Name},
    {F::kInBytes, "IN_BYTES", 1, K::kInt64, kInBytes},
    {F::kOutBytes, "OUT_BYTES", 23, K::kInt64, kOutBytes},
    {F::kInPkts, "IN_PKTS", 2, K::kInt64, kInPkts},
    {F::kOutPkts, "OUT_PKTS", 24, K::kInt64, kOutPkts},
    {F::kFlowStartMs, "FLOW_START_MILLISECONDS", 152, K::kTimeMs, kStartTime},
    {F::kFlowEndMs, "FLOW_END_MILLISECONDS", 153, K::kTimeMs, kEndTime},
    {F::kFlowStartUs, "FLOW_START_MICROSECONDS", 154, K::kTimeUs, kStartTime},
    {F::kFlowEndUs, "FLOW_END_MICROSECONDS", 155, K::kTimeUs, kEndTime},
    {F::kFlowStartSec, "FLOW_START_SEC", 150, K::kTimeSec, kStartTime},
    {F::kFlowEndSec, "FLOW_END_SEC", 151, K::kTimeSec, kEndTime},
    {F::kFirstSwitched, "FIRST_SWITCHED", 22, K::kTimeSec, kStartTime},
    {F::kLastSwitched, "LAST_SWITCHED", 21, K::kTimeSec, kEndTime},
    {F::kTcpFlags, "TCP_FLAGS", 6, K::kInt32, kTcpFlags},
    {F::kClientTcpFlags, "CLIENT_TCP_FLAGS", 57550, K::kInt32, kClientTcpFlags},
    {F::kServerTcpFlags, "SERVER_TCP_FLAGS", 57551, K::kInt32, kServerTcpFlags},
    {F::kInSrcMac, "IN_SRC_MAC", 56, K::kMac, kSrcMac},
    {F::kOutDstMac, "OUT_DST_MAC", 57, K::kMac, kDstMac},
    {F::kSrcVlan, "SRC_VLAN", 58, K::kInt32, kVlan},
    {F::kInputSnmp, "INPUT_SNMP", 10, K::kInt32, kInputSnmp},
    {F::kOutputSnmp, "OUTPUT_SNMP", 14, K::kInt32, kOutputSnmp},
    {F::kSrcTos, "SRC_TOS", 5, K::kInt32, kSrcTos},
    {F::kMinTtl, "MIN_TTL", 52, K::kInt32, kMinTtl},
    {F::kMaxTtl, "MAX_TTL", 53, K::kInt32, kMaxTtl},
    {F::kIcmpType, "ICMP_TYPE", 32, K::kInt32, kIcmpType},
    {F::kRetransmittedInPkts, "RETRANSMITTED_IN_PKTS", 57581, K::kInt64, kRetransmittedInPkts},
    {F::kRetransmittedOutPkts, "RETRANSMITTED_OUT_PKTS", 57582, K::kInt64,
     kRetransmittedOutPkts},
    {F::kClientNwLatencyMs, "CLIENT_NW_LATENCY_MS", 57595, K::kDouble, kClientLatencyMs},
    {F::kServerNwLatencyMs, "SERVER_NW_LATENCY_MS", 57596, K::kDouble, kServerLatencyMs},
    {F::kApplLatencyMs, "APPL_LATENCY_MS", 57597, K::kDouble, kApplLatencyMs},
    {F::kDnsQuery, "DNS_QUERY", 57677, K::kString, kDnsQuery},
    {F::kDnsQueryType, "DNS_QUERY_TYPE", 57679, K::kInt32, kDnsQueryType},
    {F::kDnsRetCode, "DNS_RET_CODE", 57680, K::kInt32, kDnsRetCode},
    {F::kHttpUrl, "HTTP_URL", 57652, K::kString, kHttpUrl},
    {F::kHttpHost, "HTTP_HOST", 57659, K::kString, kHttpHost},
    {F::kHttpMethod, "HTTP_METHOD", 57832, K::kString, kHttpMethod},
    {F::kHttpRetCode, "HTTP_RET_CODE", 57653, K::kInt32, kHttpRetCode},
    {F::kTlsServerName, "TLS_SERVER_NAME", 57660, K::kString, kTlsServerName},
    {F::kTlsVersion, "TLS_VERSION", 57967, K::kInt32, kTlsVersion},
    {F::kJa3cHash, "JA3C_HASH", 57961, K::kString, kJa3cHash},
    {F::kJa3sHash, "JA3S_HASH", 57962, K::kString, kJa3sHash},
};
}  // namespace internal

namespace {
using internal::kFieldTable;

// Older labels nProbe used for the same element id (same meaning, renamed).
// HTTP_SITE is *not* here: it is a different element (57833, host without
// the name part).
struct Alias {
  std::string_view label;
  NprobeField field;
};
constexpr Alias kAliases[] = {
    {"SSL_SERVER_NAME", F::kTlsServerName},       // 57660 before nProbe 9
    {"CLIENT_NW_DELAY_MS", F::kClientNwLatencyMs},  // 57595, older name
    {"SERVER_NW_DELAY_MS", F::kServerNwLatencyMs},  // 57596, older name
};

// Labels are looked up with a direct-mapped perfect hash: a multiplicative
// hash of the length and the first, middle and last 8 bytes (EXPORTER_IPV4_ADDRESS
// and EXPORTER_IPV6_ADDRESS differ only in the middle), with a seed searched at
// start-up so that no two labels share a slot. A lookup is then one hash, one
// load and one memcmp: ~45 keys per record make this the decoder's hottest
// loop after simdjson itself.
constexpr int kLabelBits = 9;
constexpr size_t kLabelSlots = size_t{1} << kLabelBits;

inline uint64_t LoadPartial(const char* p, size_t n) {
  uint64_t v = 0;
  std::memcpy(&v, p, n < 8 ? n : 8);
  return v;
}

// A label as three (overlapping) 8-byte words: first, middle and last. For
// lengths <= 24 they cover every byte, so equal words + equal length mean
// equal strings, and the lookup needs no memcmp.
constexpr size_t kMaxLabelSize = 24;
struct LabelWords {
  uint64_t a = 0, b = 0, c = 0;
  size_t n = 0;
  bool operator==(const LabelWords&) const = default;
};

inline LabelWords Words(std::string_view s) {
  LabelWords w;
  w.n = s.size();
  w.a = LoadPartial(s.data(), w.n);
  if (w.n > 8) w.b = LoadPartial(s.data() + w.n - 8, 8);
  if (w.n >= 16) w.c = LoadPartial(s.data() + w.n / 2 - 4, 8);
  return w;
}

inline uint64_t LabelHash(const LabelWords& w, uint64_t seed) {
  uint64_t h = (w.a ^ (w.b * 0x9E3779B97F4A7C15ULL) ^ (w.c * 0xC2B2AE3D27D4EB4FULL) ^
                (uint64_t{w.n} << 56)) *
               seed;
  return h >> (64 - kLabelBits);
}

struct Tables {
  uint64_t seed = 0;
  std::array<LabelWords, kLabelSlots> labels{};  // n == 0: empty slot
  std::array<NprobeField, kLabelSlots> label_fields{};
  std::array<NprobeField, 65536> by_id{};  // NetFlow v9 id -> field

  Tables() {
    std::vector<Alias> all;
    for (size_t i = 1; i < kNprobeFieldCount; ++i) {
      all.push_back({kFieldTable[i].label, kFieldTable[i].field});
      if (kFieldTable[i].element_id != 0) by_id[kFieldTable[i].element_id] = kFieldTable[i].field;
    }
    for (const Alias& a : kAliases) all.push_back(a);
    // Deterministic search; with ~60 labels in 512 slots it ends within a
    // few hundred tries.
    uint64_t candidate = 0x100000001B3ULL;
    for (int attempt = 0;; ++attempt, candidate += 0x9E3779B97F4A7C16ULL) {
      // Two labels with equal hash inputs would loop forever: a bug in this
      // file, caught by every test run.
      if (attempt == 100000) std::abort();
      labels.fill({});
      bool ok = true;
      for (const Alias& a : all) {
        if (a.label.size() > kMaxLabelSize) std::abort();  // see LabelWords
        LabelWords w = Words(a.label);
        uint64_t slot = LabelHash(w, candidate | 1);
        if (labels[slot].n != 0) {
          ok = false;
          break;
        }
        labels[slot] = w;
        label_fields[slot] = a.field;
      }
      if (ok) {
        seed = candidate | 1;
        break;
      }
    }
  }
};

const Tables& GetTables() {
  static const Tables* tables = new Tables();
  return *tables;
}

// Parses a decimal without sign or leading zeros, at most 9 digits.
bool ParseId(std::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 9 || (s[0] == '0' && s.size() > 1)) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  *out = v;
  return true;
}

NprobeField LookupId(uint32_t id) {
  return id < 65536 ? GetTables().by_id[id] : NprobeField::kUnknown;
}

}  // namespace

NprobeField LookupKey(std::string_view key) {
  if (key.empty()) return NprobeField::kUnknown;
  if (key[0] >= '0' && key[0] <= '9') {
    size_t dot = key.find('.');
    uint32_t id = 0;
    if (dot == std::string_view::npos) {
      return ParseId(key, &id) ? LookupId(id) : NprobeField::kUnknown;
    }
    uint32_t pen = 0;
    if (!ParseId(key.substr(0, dot), &pen) || !ParseId(key.substr(dot + 1), &id) ||
        pen != kNtopPen) {
      return NprobeField::kUnknown;
    }
    // ntop's IPFIX ids are small; nProbe also writes the v9 id after the PEN.
    if (id < kNtopIdBase) id += kNtopIdBase;
    return LookupId(id);
  }
  if (key.size() > kMaxLabelSize) return NprobeField::kUnknown;
  const Tables& t = GetTables();
  const LabelWords w = Words(key);
  const uint64_t slot = LabelHash(w, t.seed);
  return t.labels[slot] == w ? t.label_fields[slot] : NprobeField::kUnknown;
}

}  // namespace flowlake
