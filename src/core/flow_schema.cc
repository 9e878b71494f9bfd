#include "core/flow_schema.h"

namespace flowlake {

const Schema& FlowSchema() {
  using T = ColumnType;
  static const Schema* schema = new Schema({
      {"probe", T::kString},
      {"exporter_ip", T::kString},
      {"src_ip", T::kString},
      {"dst_ip", T::kString},
      {"src_port", T::kInt32},
      {"dst_port", T::kInt32},
      {"protocol", T::kInt32},
      {"ip_version", T::kInt32},
      {"l7_master", T::kInt32},
      {"l7_app", T::kInt32},
      {"l7_name", T::kString},
      {"in_bytes", T::kInt64},
      {"out_bytes", T::kInt64},
      {"in_pkts", T::kInt64},
      {"out_pkts", T::kInt64},
      {"start_time", T::kTimestampMs},
      {"end_time", T::kTimestampMs},
      {"duration_ms", T::kInt64},
      {"tcp_flags", T::kInt32},
      {"client_tcp_flags", T::kInt32},
      {"server_tcp_flags", T::kInt32},
      {"src_mac", T::kString},
      {"dst_mac", T::kString},
      {"vlan", T::kInt32},
      {"input_snmp", T::kInt32},
      {"output_snmp", T::kInt32},
      {"src_tos", T::kInt32},
      {"min_ttl", T::kInt32},
      {"max_ttl", T::kInt32},
      {"icmp_type", T::kInt32},
      {"retransmitted_in_pkts", T::kInt64},
      {"retransmitted_out_pkts", T::kInt64},
      {"client_latency_ms", T::kDouble},
      {"server_latency_ms", T::kDouble},
      {"appl_latency_ms", T::kDouble},
      {"dns_query", T::kString},
      {"dns_query_type", T::kInt32},
      {"dns_ret_code", T::kInt32},
      {"http_url", T::kString},
      {"http_host", T::kString},
      {"http_method", T::kString},
      {"http_ret_code", T::kInt32},
      {"tls_server_name", T::kString},
      {"tls_version", T::kInt32},
      {"ja3c_hash", T::kString},
      {"ja3s_hash", T::kString},
  });
  return *schema;
}

}  // namespace flowlake
