#include "synth/nprobe_json_encoder.h"

#include <charconv>
#include <cstdint>

#include "synth/rng.h"

namespace flowlake::synth {

namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

template <typename Int>
void AppendInt(Int v, std::string* out) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

// Appends one record's key/value pairs; owns the comma logic.
class ObjectWriter {
 public:
  ObjectWriter(const std::array<std::string, static_cast<size_t>(NprobeField::kCount)>* keys,
               const std::array<std::string, static_cast<size_t>(NprobeField::kCount)>* qualified,
               uint32_t probe, bool numbers_as_strings, std::string* out)
      : keys_(keys), qualified_(qualified), probe_(probe), quote_numbers_(numbers_as_strings), out_(out) {
    out_->push_back('{');
  }
  void Finish() { out_->push_back('}'); }

  void Key(NprobeField f) {
    if (!first_) out_->push_back(',');
    first_ = false;
    const size_t i = static_cast<size_t>(f);
    // Exporters differ in whether they qualify ntop fields with the PEN; a
    // given probe is consistent per field, as a fixed template would be.
    if (qualified_ != nullptr && FieldInfo(f).is_ntop() && (Mix64(probe_, i) & 1) != 0) {
      out_->append((*qualified_)[i]);
    } else {
      out_->append((*keys_)[i]);
    }
  }
  void Int(NprobeField f, uint64_t v) {
    Key(f);
    if (quote_numbers_) out_->push_back('"');
    AppendInt(v, out_);
    if (quote_numbers_) out_->push_back('"');
  }
  void Str(NprobeField f, std::string_view v) {
    Key(f);
    AppendJsonString(v, out_);
  }
  void Ip4(NprobeField f, uint32_t v) {
    Key(f);
    out_->push_back('"');
    AppendIpv4(v, out_);
    out_->push_back('"');
  }
  void Ip6(NprobeField f, const std::array<uint16_t, 8>& v) {
    Key(f);
    out_->push_back('"');
    AppendIpv6(v, out_);
    out_->push_back('"');
  }
  void Mac(NprobeField f, uint64_t v) {
    Key(f);
    out_->push_back('"');
    AppendMac(v, out_);
    out_->push_back('"');
  }
  void Millis(NprobeField f, uint32_t micros) {
    Key(f);
    AppendMillisFromMicros(micros, out_);
  }
  void L7Proto(uint16_t master, uint16_t app) {
    Key(NprobeField::kL7Proto);
    out_->push_back('"');
    AppendInt(master, out_);
    if (app != 0) {
      out_->push_back('.');
      AppendInt(app, out_);
    }
    out_->push_back('"');
  }
  void L7Name(std::string_view master, std::string_view app) {
    Key(NprobeField::kL7ProtoName);
    out_->push_back('"');
    out_->append(master);  // catalog names need no escaping
    if (!app.empty()) {
      out_->push_back('.');
      out_->append(app);
    }
    out_->push_back('"');
  }

 private:
  const std::array<std::string, static_cast<size_t>(NprobeField::kCount)>* keys_;
  const std::array<std::string, static_cast<size_t>(NprobeField::kCount)>* qualified_;
  uint32_t probe_;
  bool quote_numbers_;
  std::string* out_;
  bool first_ = true;
};

}  // namespace

void AppendIpv4(uint32_t a, std::string* out) {
  AppendInt(a >> 24, out);
  out->push_back('.');
  AppendInt((a >> 16) & 0xff, out);
  out->push_back('.');
  AppendInt((a >> 8) & 0xff, out);
  out->push_back('.');
  AppendInt(a & 0xff, out);
}

void AppendIpv6(const std::array<uint16_t, 8>& w, std::string* out) {
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one
  // on ties; lowercase hex without leading zeros.
  int best_start = -1;
  int best_len = 0;
  for (int i = 0; i < 8;) {
    if (w[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && w[j] == 0) ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best_start = -1;
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out->append("::");
      i += best_len - 1;
      continue;
    }
    if (i != 0 && i != best_start + best_len) out->push_back(':');
    char buf[4];
    const auto res = std::to_chars(buf, buf + sizeof(buf), w[i], 16);
    out->append(buf, res.ptr);
  }
}

void AppendMac(uint64_t mac, std::string* out) {
  for (int i = 5; i >= 0; --i) {
    const unsigned byte = (mac >> (8 * i)) & 0xff;
    out->push_back(kHexUpper[byte >> 4]);
    out->push_back(kHexUpper[byte & 0xf]);
    if (i != 0) out->push_back(':');
  }
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && c != '"' && c != '\\') {
      out->push_back(c);
      continue;
    }
    out->push_back('\\');
    switch (c) {
      case '"': out->push_back('"'); break;
      case '\\': out->push_back('\\'); break;
      case '\n': out->push_back('n'); break;
      case '\r': out->push_back('r'); break;
      case '\t': out->push_back('t'); break;
      default:
        out->append("u00");
        out->push_back(kHexLower[u >> 4]);
        out->push_back(kHexLower[u & 0xf]);
    }
  }
  out->push_back('"');
}

void AppendMillisFromMicros(uint32_t micros, std::string* out) {
  AppendInt(micros / 1000, out);
  uint32_t frac = micros % 1000;
  if (frac == 0) return;
  out->push_back('.');
  char digits[3] = {static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                    static_cast<char>('0' + frac % 10)};
  size_t n = 3;
  while (digits[n - 1] == '0') --n;
  out->append(digits, n);
}

NprobeJsonEncoder::NprobeJsonEncoder() {
  for (size_t i = 0; i < kFields; ++i) {
    const NprobeFieldInfo& info = kNprobeFields[i];
    label_keys_[i] = "\"" + std::string(info.label) + "\":";
    if (info.element_id == 0) {
      id_keys_[i] = label_keys_[i];
    } else {
      id_keys_[i] = "\"" + std::to_string(info.element_id) + "\":";
    }
    qualified_keys_[i] =
        info.is_ntop() ? "\"35632." + std::to_string(info.element_id) + "\":" : id_keys_[i];
  }
}

void NprobeJsonEncoder::Encode(const FlowRecord& flow, const Probe& probe, const RecordFormat& format,
                               std::string* out) const {
  using F = NprobeField;
  const ProbeTemplate& tmpl = probe.json_template;
  ObjectWriter w(format.element_ids ? &id_keys_ : &label_keys_,
                 format.element_ids ? &qualified_keys_ : nullptr, flow.probe, format.numbers_as_strings, out);

  w.Str(F::kProbeId, probe.name);
  w.Ip4(F::kExporterIpv4Address, probe.exporter_ipv4);
  if (tmpl.l2_fields) {
    w.Mac(F::kInSrcMac, flow.src_mac);
    w.Mac(F::kOutDstMac, flow.dst_mac);
    w.Int(F::kInputSnmp, flow.input_snmp);
    w.Int(F::kOutputSnmp, flow.output_snmp);
    w.Int(F::kSrcVlan, flow.vlan);
  }
  const bool v6 = flow.src.is_v6;
  if (!v6 || tmpl.dual_stack_addresses) {
    w.Ip4(F::kIpv4SrcAddr, v6 ? 0 : flow.src.v4);
    w.Ip4(F::kIpv4DstAddr, v6 ? 0 : flow.dst.v4);
  }
  w.Int(F::kL4SrcPort, flow.src_port);
  w.Int(F::kL4DstPort, flow.dst_port);
  if (v6 || tmpl.dual_stack_addresses) {
    static constexpr std::array<uint16_t, 8> kUnspecified{};
    w.Ip6(F::kIpv6SrcAddr, v6 ? flow.src.v6 : kUnspecified);
    w.Ip6(F::kIpv6DstAddr, v6 ? flow.dst.v6 : kUnspecified);
  }
  w.Int(F::kIpProtocolVersion, v6 ? 6 : 4);
  w.Int(F::kProtocol, flow.protocol);
  w.L7Proto(flow.l7_master, flow.l7_app);
  w.L7Name(flow.l7_master_name, flow.l7_app_name);
  w.Int(F::kInBytes, flow.in_bytes);
  w.Int(F::kInPkts, flow.in_pkts);
  w.Int(F::kOutBytes, flow.out_bytes);
  w.Int(F::kOutPkts, flow.out_pkts);
  if (format.seconds_timestamps) {
    w.Int(F::kFirstSwitched, static_cast<uint64_t>(flow.start_ms / 1000));
    w.Int(F::kLastSwitched, static_cast<uint64_t>(flow.end_ms / 1000));
  } else {
    w.Int(F::kFlowStartMilliseconds, static_cast<uint64_t>(flow.start_ms));
    w.Int(F::kFlowEndMilliseconds, static_cast<uint64_t>(flow.end_ms));
  }
  w.Int(F::kTcpFlags, flow.tcp_flags());
  const bool tcp = flow.protocol == 6;
  if (tcp) {
    w.Int(F::kClientTcpFlags, flow.client_tcp_flags);
    w.Int(F::kServerTcpFlags, flow.server_tcp_flags);
  }
  w.Int(F::kSrcTos, flow.src_tos);
  w.Int(F::kMinTtl, flow.min_ttl);
  w.Int(F::kMaxTtl, flow.max_ttl);
  if (tcp) {
    w.Int(F::kRetransmittedInPkts, flow.retransmitted_in_pkts);
    w.Int(F::kRetransmittedOutPkts, flow.retransmitted_out_pkts);
    if (flow.has_latency) {
      w.Millis(F::kClientNwLatencyMs, flow.client_latency_us);
      w.Millis(F::kServerNwLatencyMs, flow.server_latency_us);
      w.Millis(F::kApplLatencyMs, flow.appl_latency_us);
    }
  }
  switch (flow.detail) {
    case L7Detail::kIcmp:
      w.Int(F::kIcmpType, flow.icmp_type);
      break;
    case L7Detail::kDns:
      w.Str(F::kDnsQuery, flow.dns_query);
      w.Int(F::kDnsQueryType, flow.dns_query_type);
      w.Int(F::kDnsRetCode, flow.dns_ret_code);
      break;
    case L7Detail::kHttp:
      w.Str(F::kHttpUrl, flow.http_url);
      w.Str(F::kHttpHost, flow.http_host);
      w.Str(F::kHttpMethod, flow.http_method);
      w.Int(F::kHttpRetCode, flow.http_ret_code);
      break;
    case L7Detail::kTls:
    case L7Detail::kQuic:
      w.Str(F::kTlsServerName, flow.tls_server_name);
      w.Int(F::kTlsVersion, flow.tls_version);
      if (!flow.ja3c_hash.empty()) w.Str(F::kJa3cHash, flow.ja3c_hash);
      if (!flow.ja3s_hash.empty()) w.Str(F::kJa3sHash, flow.ja3s_hash);
      break;
    case L7Detail::kNone:
      break;
  }
  // A fixed template exports every field; nProbe fills the ones that do not
  // apply with empty strings.
  if (tmpl.empty_l7_strings) {
    if (flow.detail != L7Detail::kDns) w.Str(F::kDnsQuery, "");
    if (flow.detail != L7Detail::kHttp) {
      w.Str(F::kHttpUrl, "");
      w.Str(F::kHttpHost, "");
    }
  }
  w.Finish();
}

}  // namespace flowlake::synth
