#include "decode/nprobe_decoder.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/log_limiter.h"
#include "decode/net_text.h"
#include "decode/nprobe_fields.h"
#include "decode/record_framer.h"

namespace flowlake {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

static_assert(kDecoderPadding == simdjson::SIMDJSON_PADDING,
              "kDecoderPadding must match the simdjson build");
static_assert(kNprobeFieldCount <= 64, "Record::present is one 64-bit mask");

// [1970-01-01T00:00:00.000Z, 9999-12-31T23:59:59.999Z] in epoch ms.
constexpr int64_t kMinTimeMs = 0;
constexpr int64_t kMaxTimeMs = 253402300799999;
constexpr size_t kMaxValueInMessage = 64;

enum class FieldError : uint8_t {
  kExpectedInteger,
  kOutOfRange,
  kExpectedNumber,
  kExpectedString,
  kInvalidIpv4,
  kInvalidIpv6,
  kInvalidMac,
  kInvalidL7,
  kTimeOutOfRange,
};

std::string_view Describe(FieldError e, FieldKind kind) {
  switch (e) {
    case FieldError::kExpectedInteger: return "expected integer";
    case FieldError::kOutOfRange:
      return kind == FieldKind::kInt32 ? "integer out of range for INT32"
                                       : "integer out of range for INT64";
    case FieldError::kExpectedNumber: return "expected number";
    case FieldError::kExpectedString: return "expected string";
    case FieldError::kInvalidIpv4: return "expected IPv4 address";
    case FieldError::kInvalidIpv6: return "expected IPv6 address";
    case FieldError::kInvalidMac: return "expected MAC address xx:xx:xx:xx:xx:xx";
    case FieldError::kInvalidL7: return "expected \"master.app\" or a protocol id";
    case FieldError::kTimeOutOfRange: return "timestamp out of range [1970-01-01, 9999-12-31]";
  }
  return "invalid value";
}

// A bad field value, kept as views into the document until the record is
// finished (messages are only formatted when someone reads them).
struct FieldProblem {
  NprobeField field;
  FieldError error;
  std::string_view key;    // as written in the record
  std::string_view value;  // raw JSON text, or "object" / "array"
};

std::string FormatProblem(const FieldProblem& p) {
  const NprobeFieldInfo& info = FieldInfo(p.field);
  std::string s(info.label);
  if (p.key != info.label) {
    s += " (key \"";
    s += p.key;
    s += "\")";
  }
  s += ": ";
  s += Describe(p.error, info.kind);
  s += ", got ";
  if (p.value.size() > kMaxValueInMessage) {
    s.append(p.value.substr(0, kMaxValueInMessage));
    s += "...";
  } else {
    s += p.value;
  }
  return s;
}

std::string_view TrimJsonSpace(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                        s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Value errors simdjson reports for a scalar that is not the requested type
// (or is a malformed number). They leave the document usable: the field
// becomes null. Anything else means the document itself is broken.
bool IsScalarError(error_code e) {
  return e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_ERROR ||
         e == simdjson::NUMBER_OUT_OF_RANGE || e == simdjson::STRING_ERROR ||
         e == simdjson::N_ATOM_ERROR || e == simdjson::T_ATOM_ERROR ||
         e == simdjson::F_ATOM_ERROR;
}

// Strict integer text: optional '-', digits, and (as for JSON numbers) an
// integral fraction/exponent such as "12.0" or "1e3".
enum class IntParse : uint8_t { kOk, kNotInteger, kOutOfRange };
IntParse ParseIntegerText(std::string_view s, int64_t* out) {
  if (s.empty()) return IntParse::kNotInteger;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, *out);
  if (ec == std::errc() && p == end) return IntParse::kOk;
  bool digits_only = ec == std::errc::result_out_of_range;
  double d = 0;
  auto [dp, dec] = std::from_chars(s.data(), end, d);
  if (dp != end || (dec != std::errc() && dec != std::errc::result_out_of_range) ||
      !std::isfinite(d) || std::floor(d) != d) {
    return digits_only ? IntParse::kOutOfRange : IntParse::kNotInteger;
  }
  // 2^63 is exactly representable; anything >= it does not fit.
  if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) return IntParse::kOutOfRange;
  *out = static_cast<int64_t>(d);
  return IntParse::kOk;
}

bool ParseDoubleText(std::string_view s, double* out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && p == end && std::isfinite(*out);
}

// The common JSON integer straight from its token (which stage 1 delimited:
// the number and any whitespace up to the next structural character):
// optional '-', 1 to 18 digits without a leading zero, then whitespace or
// the token's end. Exactly what simdjson's get_int64() would return for
// such text, without its parse; anything else returns false and takes the
// full path (ReadJsonInteger).
bool ParseSimpleInteger(std::string_view token, int64_t* out) {
  const char* p = token.data();
  const char* const end = p + token.size();
  const bool negative = p < end && *p == '-';
  p += negative;
  const char* const digits = p;
  uint64_t v = 0;
  while (p < end && static_cast<unsigned char>(*p - '0') < 10) {
    v = v * 10 + static_cast<unsigned char>(*p - '0');
    ++p;
  }
  const auto n = static_cast<size_t>(p - digits);
  if (n == 0 || n > 18 || (n > 1 && *digits == '0')) return false;
  if (p != end && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') return false;
  *out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

// The content of a JSON string token without a backslash, as a view into
// the document: what get_string() would return, without copying it into
// the parser's string buffer. Stage 1 already checked the whole document
// (UTF-8, unescaped control characters, closing quotes). False for an
// escaped string (get_string() unescapes it) or an unexpected token shape.
bool RawStringContent(std::string_view token, std::string_view* out) {
  token = TrimJsonSpace(token);
  if (token.size() < 2 || token.front() != '"' || token.back() != '"') return false;
  std::string_view content = token.substr(1, token.size() - 2);
  // Eight bytes at a time (strings here are short; a memchr call costs more).
  const char* p = content.data();
  size_t n = content.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    w ^= 0x5C5C5C5C5C5C5C5CULL;  // '\\' bytes become 0
    if (((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL) != 0) return false;
  }
  for (; n > 0; ++p, --n) {
    if (*p == '\\') return false;
  }
  *out = content;
  return true;
}

// ---- the flat-object fast path's scanner (see DecodeFlatObject) ----

inline bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline const char* SkipJsonSpace(const char* p, const char* end) {
  while (p < end && IsJsonSpace(*p)) ++p;
  return p;
}

// The first byte in [p, end) that may not appear unescaped inside a string
// the fast path takes: '"', '\\', a control character, or a byte >= 0x7F
// (non-ASCII text goes to simdjson, which validates its UTF-8); a result
// >= end means none. Reads whole 16-byte blocks, up to 15 bytes past `end`:
// the caller guarantees that much readable padding.
inline const char* FindStringStop(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);  // signed: also catches 0x80..0xFF
  const __m128i del = _mm_set1_epi8(0x7F);
  for (; p < end; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i stop =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                     _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)));
    const int mask = _mm_movemask_epi8(stop);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
  }
  return p;
#else
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7F) return p;
  }
  return p;
#endif
}

// A JSON number without exponent and with at most 15 digits, as a double:
// the digits as an integer (exact, < 2^53) divided by a power of ten
// (exact up to 10^22) is one correctly rounded operation, so the result is
// the correctly rounded value that from_chars and simdjson also return.
// False for other text.
bool ShortDecimalToDouble(std::string_view token, double* out) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const char* p = token.data();
  const char* const end = p + token.size();
  const bool negative = p < end && *p == '-';
  p += negative;
  uint64_t mantissa = 0;
  int digits = 0, fraction = -1;  // fraction: digits after '.', -1 before it
  for (; p < end; ++p) {
    if (*p == '.' && fraction < 0) {
      fraction = 0;
      continue;
    }
    const auto d = static_cast<unsigned char>(*p - '0');
    if (d > 9 || ++digits > 15) return false;
    mantissa = mantissa * 10 + d;
    fraction += fraction >= 0;
  }
  if (digits == 0) return false;
  const double v = static_cast<double>(mantissa) / kPow10[fraction < 0 ? 0 : fraction];
  *out = negative ? -v : v;
  return true;
}

// What ScanJsonNumber() learnt about a number on the way.
struct ScannedNumber {
  bool plain_decimal = false;   // no exponent
  bool simple_integer = false;  // what ParseSimpleInteger() accepts, value in `integer`
  int64_t integer = 0;
};

// The end of the JSON number starting at `p` (before `end`), or nullptr if
// the text there is not one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
// What follows the number is the caller's to check.
inline const char* ScanJsonNumber(const char* p, const char* end, ScannedNumber* out) {
  auto digit = [end](const char* q) { return q < end && static_cast<unsigned char>(*q - '0') < 10; };
  const bool negative = p < end && *p == '-';
  p += negative;
  if (!digit(p)) return nullptr;
  const char* const digits = p;
  uint64_t v = 0;
  if (*p == '0') {
    ++p;
  } else {
    while (digit(p)) {
      v = v * 10 + static_cast<unsigned char>(*p - '0');  // wraps harmlessly past 18 digits
      ++p;
    }
  }
  out->plain_decimal = true;
  out->simple_integer = p - digits <= 18;
  if (p < end && *p == '.') {
    out->simple_integer = false;
    ++p;
    if (!digit(p)) return nullptr;
    while (digit(p)) ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    out->plain_decimal = false;
    out->simple_integer = false;
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (!digit(p)) return nullptr;
    while (digit(p)) ++p;
  }
  out->integer = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return p;
}

// A key as the fast path last saw it after a given key: its bytes from the
// opening quote through the ':' ("KEY":) and its field. nProbe writes the
// keys of a template in a fixed order, and a key is followed by one of few
// others, so one compare usually replaces scanning the key and looking it
// up.
struct PredictedKey {
  static constexpr size_t kMaxText = 32;
  alignas(16) char text[kMaxText] = {};
  uint32_t size = 0;  // bytes of `text` used; 0 = nothing predicted
  uint32_t mask = 0;  // bit i set for i < size
  NprobeField field = NprobeField::kUnknown;
};

// Whether [p, p + key.size) equals key.text (key.size > 0). Reads
// PredictedKey::kMaxText bytes from p: the caller guarantees they are
// readable.
inline bool MatchesPredictedKey(const char* p, const PredictedKey& key) {
#if defined(__SSE2__)
  const __m128i a0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i a1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
  const __m128i b0 = _mm_load_si128(reinterpret_cast<const __m128i*>(key.text));
  const __m128i b1 = _mm_load_si128(reinterpret_cast<const __m128i*>(key.text + 16));
  const uint32_t equal =
      static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(a0, b0))) |
      (static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(a1, b1))) << 16);
  return (equal & key.mask) == key.mask;
#else
  return std::memcmp(p, key.text, key.size) == 0;
#endif
}

// "7.178" -> (7, 178); "13" -> (13, 0). Both parts: digits only, INT32.
bool SplitL7(std::string_view s, int32_t* master, int32_t* app) {
  // Digits only (leading zeros allowed), at most INT32_MAX: what from_chars
  // accepts after a leading digit, without its call.
  auto part = [](std::string_view t, int32_t* v) {
    if (t.empty()) return false;
    uint64_t x = 0;
    for (char c : t) {
      const auto d = static_cast<unsigned char>(c - '0');
      if (d > 9) return false;
      x = x * 10 + d;
      if (x > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return false;
    }
    *v = static_cast<int32_t>(x);
    return true;
  };
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) {
    *app = 0;
    return part(s, master);
  }
  return part(s.substr(0, dot), master) && part(s.substr(dot + 1), app);
}

// Multiplies epoch `v` in `kind` units to ms; false on overflow.
bool ToEpochMs(int64_t v, FieldKind kind, int64_t* ms) {
  switch (kind) {
    case FieldKind::kTimeMs: *ms = v; return true;
    case FieldKind::kTimeUs:
      // Floor division, so -1 us is before the epoch, not at it.
      *ms = v / 1000 - ((v % 1000) < 0 ? 1 : 0);
      return true;
    case FieldKind::kTimeSec: return !__builtin_mul_overflow(v, int64_t{1000}, ms);
    default: return false;
  }
}

std::string_view JsonTypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array: return "array";
    case od::json_type::object: return "object";
    case od::json_type::number: return "number";
    case od::json_type::string: return "string";
    case od::json_type::boolean: return "boolean";
    case od::json_type::null: return "null";
  }
  return "value";
}

// One decoded object. Reused for every record: Reset() only clears the
// masks, so decoding a flow touches no heap.
struct Record {
  struct Slot {
    int64_t i = 0;
    double d = 0;
    std::string_view s;  // string value; raw text for timestamps
  };
  static constexpr size_t kMaxProblems = 8;

  uint64_t present = 0;  // bit per NprobeField with a usable value
  uint64_t errored = 0;  // bit per NprobeField whose value was bad
  uint32_t unknown = 0;
  uint32_t num_problems = 0;
  int32_t l7_app = 0;
  std::array<Slot, kNprobeFieldCount> v{};
  std::array<IpAddress, kNprobeFieldCount> ip{};  // only address fields used
  std::array<std::array<char, kMacTextSize>, 2> mac{};
  std::array<FieldProblem, kMaxProblems> problems{};

  void Reset() {
    present = 0;
    errored = 0;
    unknown = 0;
    num_problems = 0;
  }
  static uint64_t Bit(NprobeField f) { return uint64_t{1} << static_cast<unsigned>(f); }
  bool Has(NprobeField f) const { return (present & Bit(f)) != 0; }
  bool Errored(NprobeField f) const { return (errored & Bit(f)) != 0; }
  Slot& at(NprobeField f) { return v[static_cast<size_t>(f)]; }
  const Slot& at(NprobeField f) const { return v[static_cast<size_t>(f)]; }

  void Set(NprobeField f) {
    present |= Bit(f);
    errored &= ~Bit(f);  // a later duplicate key wins
  }
  void Clear(NprobeField f) { present &= ~Bit(f); }
  void Problem(NprobeField f, FieldError e, std::string_view key, std::string_view value) {
    present &= ~Bit(f);
    errored |= Bit(f);
    if (num_problems < kMaxProblems) problems[num_problems++] = {f, e, key, value};
  }
  const FieldProblem* FindProblem(NprobeField f) const {
    for (uint32_t i = num_problems; i-- > 0;) {
      if (problems[i].field == f) return &problems[i];
    }
    return nullptr;
  }
};

// Fields copied 1:1 into their column; the others are combined in Finish().
constexpr NprobeField kDirectFields[] = {
    NprobeField::kProbeId,         NprobeField::kL4SrcPort,
    NprobeField::kL4DstPort,       NprobeField::kProtocol,
    NprobeField::kL7ProtoName,     NprobeField::kInBytes,
    NprobeField::kOutBytes,        NprobeField::kInPkts,
    NprobeField::kOutPkts,         NprobeField::kTcpFlags,
    NprobeField::kClientTcpFlags,  NprobeField::kServerTcpFlags,
    NprobeField::kInSrcMac,        NprobeField::kOutDstMac,
    NprobeField::kSrcVlan,         NprobeField::kInputSnmp,
    NprobeField::kOutputSnmp,      NprobeField::kSrcTos,
    NprobeField::kMinTtl,          NprobeField::kMaxTtl,
    NprobeField::kIcmpType,        NprobeField::kRetransmittedInPkts,
    NprobeField::kRetransmittedOutPkts, NprobeField::kClientNwLatencyMs,
    NprobeField::kServerNwLatencyMs, NprobeField::kApplLatencyMs,
    NprobeField::kDnsQuery,        NprobeField::kDnsQueryType,
    NprobeField::kDnsRetCode,      NprobeField::kHttpUrl,
    NprobeField::kHttpHost,        NprobeField::kHttpMethod,
    NprobeField::kHttpRetCode,     NprobeField::kTlsServerName,
    NprobeField::kTlsVersion,      NprobeField::kJa3cHash,
    NprobeField::kJa3sHash,
};
// + exporter_ip, src_ip, dst_ip, ip_version, l7_master, l7_app, start_time,
//   end_time, duration_ms
static_assert(std::size(kDirectFields) + 9 == kFlowColumnCount);

constexpr NprobeField kStartFields[] = {NprobeField::kFlowStartMs, NprobeField::kFlowStartUs,
                                        NprobeField::kFlowStartSec, NprobeField::kFirstSwitched};
constexpr NprobeField kEndFields[] = {NprobeField::kFlowEndMs, NprobeField::kFlowEndUs,
                                      NprobeField::kFlowEndSec, NprobeField::kLastSwitched};

enum class RejectKind : uint8_t { kInvalidJson, kNotObject, kMissingFields, kTooLarge };

}  // namespace

class NprobeDecoder::Impl {
 public:
  explicit Impl(const DecoderConfig& config)
      : config_(config),
        reject_log_(config.log_per_second, config.log_burst),
        field_log_(config.log_per_second, config.log_burst) {}

  uint64_t DecodeChunk(const char* data, size_t size, size_t capacity, std::string_view source,
                       uint64_t first_line, uint64_t base_offset, FlowBatch& out,
                       RejectSink& rejects) {
    if (capacity < size || capacity - size < kDecoderPadding) {
      copy_.resize(size + kDecoderPadding);
      if (size != 0) std::memcpy(copy_.data(), data, size);
      data = copy_.data();
      capacity = copy_.size();
    }
    out_ = &out;
    sink_ = &rejects;
    RecordFramer framer(std::string_view(data, size), config_.max_record_bytes, first_line,
                        base_offset);
    FramedRecord record;
    while (framer.Next(record)) {
      SourcePosition pos{source, record.line, record.offset, -1};
      if (record.too_large) {
        RejectTooLarge(pos, record.text);
        continue;
      }
      const size_t room = static_cast<size_t>(data + capacity - record.text.data());
      DecodeDocument(record.text, room, pos);
    }
    return framer.newlines();
  }

  void DecodeMessage(std::string_view message, const SourcePosition& pos, FlowBatch& out,
                     RejectSink& rejects) {
    out_ = &out;
    sink_ = &rejects;
    if (message.size() > config_.max_record_bytes) {
      RejectTooLarge(pos, message);
      return;
    }
    copy_.resize(message.size() + kDecoderPadding);
    if (!message.empty()) std::memcpy(copy_.data(), message.data(), message.size());
    DecodeDocument(std::string_view(copy_.data(), message.size()), copy_.size(), pos,
                   message);
  }

  const DecoderStats& stats() const { return stats_; }

 private:
  // Where Finish() puts a flow: straight into the caller's batch for a lone
  // object, or into a staging batch for array elements, committed only if
  // the whole array turns out to be valid JSON.
  struct Target {
    FlowBatch* batch;
    DecoderStats* stats;
    bool defer_rejects;
  };
  struct PendingReject {
    RejectKind kind;
    SourcePosition pos;
    std::string reason;
    std::string_view text;
  };

  // `text` lies in a buffer with `room` readable bytes from text.data().
  // `raw` is what the sink receives (the caller's bytes, not our copy).
  void DecodeDocument(std::string_view text, size_t room, const SourcePosition& pos,
                      std::string_view raw = {}) {
    if (raw.data() == nullptr) raw = text;
    ++stats_.records;
    if (config_.flat_object_fast_path && room - text.size() >= PredictedKey::kMaxText &&
        DecodeFlatObject(text)) {
      Target target{out_, &stats_, false};
      return Finish(pos, raw, target);
    }
    od::document doc;
    error_code err =
        parser_.iterate(simdjson::padded_string_view(text.data(), text.size(), room)).get(doc);
    od::json_type type = od::json_type::null;
    if (!err) err = doc.type().get(type);
    if (err) return RejectJson(pos, err, raw);

    if (type == od::json_type::object) {
      od::object obj;
      err = doc.get_object().get(obj);
      if (!err) err = DecodeObject(obj);
      if (!err) err = CheckEnd(doc);
      if (err) return RejectJson(pos, err, raw);
      Target target{out_, &stats_, false};
      Finish(pos, raw, target);
    } else if (type == od::json_type::array) {
      DecodeArray(doc, pos, text, raw);
    } else {
      std::string reason = "not an object: got ";
      reason += JsonTypeName(type);
      reason += ' ';
      AppendTruncated(reason, TrimJsonSpace(text));
      Reject(RejectKind::kNotObject, pos, std::move(reason), raw);
    }
  }

  void DecodeArray(od::document& doc, const SourcePosition& pos, std::string_view text,
                   std::string_view raw) {
    staged_.Clear();
    pending_.clear();
    array_stats_ = DecoderStats();
    Target target{&staged_, &array_stats_, true};
    int64_t index = 0;
    int64_t objects = 0;
    od::array array;
    error_code err = doc.get_array().get(array);
    if (!err) {
      for (auto element_result : array) {
        od::value element;
        if ((err = std::move(element_result).get(element))) break;
        const char* start = nullptr;
        if (element.current_location().get(start)) start = nullptr;
        od::json_type type;
        if ((err = element.type().get(type))) break;
        SourcePosition element_pos = pos;
        element_pos.array_index = index++;
        if (type == od::json_type::object) {
          ++objects;
          od::object obj;
          if ((err = element.get_object().get(obj))) break;
          if ((err = DecodeObject(obj))) break;
          Finish(element_pos, ElementText(doc, start, text, raw), target);
        } else {
          std::string reason = "not an object: got ";
          reason += JsonTypeName(type);
          std::string_view element_text;
          if (type == od::json_type::array) {
            od::array inner;
            if ((err = element.get_array().get(inner))) break;
            if ((err = inner.raw_json().get(element_text))) break;
          } else {
            element_text = TrimJsonSpace(element.raw_json_token());
            reason += ' ';
            AppendTruncated(reason, element_text);
          }
          pending_.push_back({RejectKind::kNotObject, element_pos, std::move(reason),
                              MapToRaw(element_text, text, raw)});
        }
      }
    }
    if (!err) err = CheckEnd(doc);
    if (err) {
      SourcePosition at = pos;
      at.array_index = index > 0 ? index - 1 : -1;
      return RejectJson(at, err, raw);
    }
    if (objects == 0 && !pending_.empty()) {
      // No element is a flow: this is not a batch of flows with a few bad
      // ones, it is one record that is not a flow. Reject it once, whole.
      std::string reason = "not an object: got an array of ";
      reason += std::to_string(index);
      reason += " elements and no flow object ";
      AppendTruncated(reason, TrimJsonSpace(text));
      return Reject(RejectKind::kNotObject, pos, std::move(reason), raw);
    }
    out_->AppendAll(staged_);
    stats_.Add(array_stats_);
    for (PendingReject& r : pending_) Reject(r.kind, r.pos, std::move(r.reason), r.text);
  }

  // The raw text of the array element that started at `start`, now that the
  // iterator stands on the ',' or ']' after it.
  std::string_view ElementText(od::document& doc, const char* start, std::string_view text,
                               std::string_view raw) {
    const char* end = nullptr;
    if (start == nullptr || doc.current_location().get(end) || end < start) return raw;
    return MapToRaw(TrimJsonSpace(std::string_view(start, static_cast<size_t>(end - start))),
                    text, raw);
  }

  // `part` lies in `text` (maybe our copy); return the same bytes of `raw`.
  static std::string_view MapToRaw(std::string_view part, std::string_view text,
                                   std::string_view raw) {
    if (part.data() < text.data() || part.data() + part.size() > text.data() + text.size()) {
      return part;  // in the parser's string buffer; still valid for the call
    }
    return raw.substr(static_cast<size_t>(part.data() - text.data()), part.size());
  }

  static error_code CheckEnd(od::document& doc) {
    const char* loc = nullptr;
    error_code err = doc.current_location().get(loc);
    if (err == simdjson::OUT_OF_BOUNDS) return simdjson::SUCCESS;
    return err ? err : simdjson::TRAILING_CONTENT;
  }

  // ---- the flat-object fast path ----

  // Most records are one flat object of ASCII strings without escapes,
  // numbers, true, false and null. For those this one scan replaces
  // simdjson (its stage 1 and the On-Demand walk cost more than the scan)
  // and fills rec_ exactly as DecodeObject() does: same keys, same value
  // functions (DecodeScalar). Anything else, including any text that is not
  // valid JSON, returns false, and the caller decodes the record with
  // simdjson as if this had not run. Needs PredictedKey::kMaxText readable
  // bytes after `text`.
  bool DecodeFlatObject(std::string_view text) {
    Record& rec = rec_;
    rec.Reset();
    const char* const end = text.data() + text.size();
    const char* p = SkipJsonSpace(text.data(), end);
    if (p == end || *p != '{') return false;
    p = SkipJsonSpace(p + 1, end);
    if (p < end && *p == '}') return SkipJsonSpace(p + 1, end) == end;
    size_t previous = kNprobeFieldCount;  // the start of the object
    for (;;) {
      if (p == end || *p != '"') return false;
      std::string_view key;
      NprobeField f;
      std::array<PredictedKey, 2>& next = next_keys_[previous];
      const auto left = static_cast<size_t>(end - p);
      const PredictedKey* hit = nullptr;
      if (next[0].size != 0 && left >= next[0].size && MatchesPredictedKey(p, next[0])) {
        hit = &next[0];
      } else if (next[1].size != 0 && left >= next[1].size && MatchesPredictedKey(p, next[1])) {
        hit = &next[1];
      }
      if (hit != nullptr) {
        key = std::string_view(p + 1, hit->size - 3);
        f = hit->field;
        p += hit->size;
      } else {
        const char* const key_end = FindStringStop(p + 1, end);
        if (key_end >= end || *key_end != '"') return false;
        key = std::string_view(p + 1, static_cast<size_t>(key_end - p - 1));
        f = LookupKey(key);
        const auto text_size = static_cast<size_t>(key_end + 2 - p);
        if (key_end + 1 < end && key_end[1] == ':' && text_size <= PredictedKey::kMaxText) {
          next[1] = next[0];
          std::memcpy(next[0].text, p, text_size);
          next[0].size = static_cast<uint32_t>(text_size);
          next[0].mask = text_size >= 32 ? ~0u : (1u << text_size) - 1;
          next[0].field = f;
        }
        p = SkipJsonSpace(key_end + 1, end);
        if (p == end || *p != ':') return false;
        ++p;
      }
      previous = static_cast<size_t>(f);
      p = SkipJsonSpace(p, end);
      if (p == end) return false;
      if (!DecodeFlatValue(f, key, &p, end)) return false;
      if (p == end || *p != ',') {  // the usual ',' straight after the value skips this
        p = SkipJsonSpace(p, end);
        if (p == end) return false;
        if (*p == '}') return SkipJsonSpace(p + 1, end) == end;
        if (*p != ',') return false;
      }
      ++p;
      if (p == end || *p != '"') p = SkipJsonSpace(p, end);
    }
  }

  // One value of DecodeFlatObject() at *p (< end), for field `f` (maybe
  // kUnknown); advances *p past it. False: not a value the fast path takes.
  [[gnu::always_inline]] bool DecodeFlatValue(NprobeField f, std::string_view key,
                                              const char** pp, const char* end) {
    Record& rec = rec_;
    const char* p = *pp;
    const char c = *p;
    if (c == '"') {
      const char* const close = FindStringStop(p + 1, end);
      if (close >= end || *close != '"') return false;
      *pp = close + 1;
      if (f == NprobeField::kUnknown) {
        ++rec.unknown;
      } else if (close == p + 1) {  // "" means absent, for every type
        rec.Clear(f);
      } else {
        const std::string_view content(p + 1, static_cast<size_t>(close - p - 1));
        const std::string_view token(p, content.size() + 2);
        // Strings need no number reader, so this cannot fail.
        (void)DecodeScalar(f, key, true, content, token, NoDouble, NoInteger);
      }
      return true;
    }
    if (c == '-' || static_cast<unsigned char>(c - '0') < 10) {
      ScannedNumber number;
      const char* const number_end = ScanJsonNumber(p, end, &number);
      if (number_end == nullptr) return false;
      *pp = number_end;
      if (f == NprobeField::kUnknown) {
        ++rec.unknown;
        return true;
      }
      const std::string_view token(p, static_cast<size_t>(number_end - p));
      // Doubles without an exponent and of modest length: from_chars and
      // simdjson both round them correctly, so they agree. The rest (and
      // integers that are not plain, e.g. 1e3) take the simdjson path.
      auto read_double = [token, &number](double* d) {
        if (!number.plain_decimal || token.size() > 32) return kTakeFullPath;
        if (ShortDecimalToDouble(token, d)) return simdjson::SUCCESS;
        return ParseDoubleText(token, d) ? simdjson::SUCCESS : kTakeFullPath;
      };
      return DecodeScalar(f, key, false, {}, token, read_double, NoInteger,
                          number.simple_integer ? &number.integer : nullptr) ==
             simdjson::SUCCESS;
    }
    std::string_view literal;
    if (c == 'n') {
      literal = "null";
    } else if (c == 't') {
      literal = "true";
    } else if (c == 'f') {
      literal = "false";
    } else {
      return false;  // an object, an array, or not JSON
    }
    if (static_cast<size_t>(end - p) < literal.size() ||
        std::memcmp(p, literal.data(), literal.size()) != 0) {
      return false;
    }
    *pp = p + literal.size();
    if (f == NprobeField::kUnknown) {
      ++rec.unknown;
    } else if (c == 'n') {
      rec.Clear(f);
    } else {
      rec.Problem(f, ExpectedError(FieldInfo(f).kind), key, literal);
    }
    return true;
  }

  // DecodeScalar's number readers for the fast path: the value needs simdjson.
  static constexpr error_code kTakeFullPath = simdjson::UNINITIALIZED;
  static error_code NoDouble(double*) { return kTakeFullPath; }
  static error_code NoInteger(int64_t*, IntParse*) { return kTakeFullPath; }

  // ---- one object -> rec_ ----

  error_code DecodeObject(od::object& obj) {
    Record& rec = rec_;
    rec.Reset();
    for (auto field_result : obj) {
      // Used in place: copying it into a local od::field costs a
      // store-forwarding stall per key (seen in perf annotate).
      if (error_code err = field_result.error()) return err;
      od::field& field = field_result.value_unsafe();
      // The key is taken raw, without unescaping: it ends at the quote
      // before the ':' that precedes the value's first byte. Only a key
      // that is unknown and holds a backslash is unescaped and looked up
      // again (no label or id contains one).
      const char* raw_key = field.key().raw();
      od::value& value = field.value();
      const char* p = value.raw_json_token().data() - 1;
      while (*p != ':') --p;
      --p;
      while (*p != '"') --p;
      std::string_view key(raw_key, static_cast<size_t>(p - raw_key));
      NprobeField f = LookupKey(key);
      if (f == NprobeField::kUnknown && std::memchr(key.data(), '\\', key.size()) != nullptr) {
        if (error_code err = field.unescaped_key().get(key)) return err;
        f = LookupKey(key);
      }
      if (f == NprobeField::kUnknown) {
        ++rec.unknown;
        continue;  // simdjson skips the unread value
      }
      if (error_code err = DecodeValue(f, key, value)) return err;
    }
    return simdjson::SUCCESS;
  }

  // Reads the value of a known field into rec_. Returns only document-level
  // errors; a bad value becomes a FieldProblem.
  error_code DecodeValue(NprobeField f, std::string_view key, od::value& value) {
    Record& rec = rec_;
    const FieldKind kind = FieldInfo(f).kind;
    od::json_type type;
    if (error_code err = value.type().get(type)) return err;

    if (type == od::json_type::null) {
      bool is_null = false;
      error_code err = value.is_null().get(is_null);
      if (err && !IsScalarError(err)) return err;
      if (!err && is_null) {
        rec.Clear(f);
        return simdjson::SUCCESS;
      }
      rec.Problem(f, ExpectedError(kind), key, TrimJsonSpace(value.raw_json_token()));
      return simdjson::SUCCESS;
    }
    if (type == od::json_type::object || type == od::json_type::array) {
      rec.Problem(f, ExpectedError(kind), key, JsonTypeName(type));
      return simdjson::SUCCESS;
    }
    if (type == od::json_type::boolean) {
      rec.Problem(f, ExpectedError(kind), key, TrimJsonSpace(value.raw_json_token()));
      return simdjson::SUCCESS;
    }

    // A string or a number from here on.
    std::string_view text;
    const std::string_view token = value.raw_json_token();
    bool is_string = type == od::json_type::string;
    if (is_string) {
      if (!RawStringContent(token, &text)) {
        error_code err = value.get_string().get(text);
        if (err) {
          if (!IsScalarError(err)) return err;
          rec.Problem(f, ExpectedError(kind), key, TrimJsonSpace(token));
          return simdjson::SUCCESS;
        }
      }
      if (text.empty()) {  // "" means absent, for every type
        rec.Clear(f);
        return simdjson::SUCCESS;
      }
    }
    return DecodeScalar(
        f, key, is_string, text, token,
        [&value, token](double* d) { return ReadJsonDouble(value, token, d); },
        [&value, token](int64_t* i, IntParse* parsed) {
          return ReadJsonInteger(value, token, i, parsed);
        });
  }

  // The kind-specific part of DecodeValue, shared with the flat-object fast
  // path: a non-empty string `text` (is_string), or a number. `token` is the
  // value's raw JSON text (trailing whitespace allowed). A JSON number that
  // is not a plain integer is read by `read_double(double*)` or
  // `read_integer(int64_t*, IntParse*)`; their errors are returned as is.
  // `simple_integer`, if given, is the number's value, already parsed as
  // ParseSimpleInteger(token) would.
  template <typename ReadDouble, typename ReadInteger>
  [[gnu::always_inline]] error_code DecodeScalar(NprobeField f, std::string_view key,
                                                 bool is_string, std::string_view text,
                                                 std::string_view token,
                                                 ReadDouble&& read_double,
                                                 ReadInteger&& read_integer,
                                                 const int64_t* simple_integer = nullptr) {
    Record& rec = rec_;
    const FieldKind kind = FieldInfo(f).kind;
    Record::Slot& slot = rec.at(f);
    switch (kind) {
      case FieldKind::kString:
        slot.s = is_string ? text : TrimJsonSpace(token);
        rec.Set(f);
        return simdjson::SUCCESS;

      case FieldKind::kIpv4:
      case FieldKind::kIpv6: {
        IpAddress& ip = rec.ip[static_cast<size_t>(f)];
        bool ok = is_string && (kind == FieldKind::kIpv4 ? ParseIpv4(text, &ip)
                                                         : ParseIpv6Bytes(text, &ip));
        if (!ok) {
          rec.Problem(f, ExpectedError(kind), key, TrimJsonSpace(token));
        } else {
          rec.Set(f);
        }
        return simdjson::SUCCESS;
      }

      case FieldKind::kMac: {
        auto& mac = rec.mac[f == NprobeField::kInSrcMac ? 0 : 1];
        if (is_string && ParseMac(text, mac.data())) {
          slot.s = std::string_view(mac.data(), mac.size());
          rec.Set(f);
        } else {
          rec.Problem(f, FieldError::kInvalidMac, key, TrimJsonSpace(token));
        }
        return simdjson::SUCCESS;
      }

      case FieldKind::kL7Proto: {
        // A JSON number is split on its raw text: 7.180 and 7.18 differ.
        std::string_view l7 = is_string ? text : TrimJsonSpace(token);
        int32_t master = 0;
        if (SplitL7(l7, &master, &rec.l7_app)) {
          slot.i = master;
          rec.Set(f);
        } else {
          rec.Problem(f, FieldError::kInvalidL7, key, TrimJsonSpace(token));
        }
        return simdjson::SUCCESS;
      }

      case FieldKind::kDouble: {
        double d = 0;
        if (is_string) {
          if (!ParseDoubleText(text, &d)) {
            rec.Problem(f, FieldError::kExpectedNumber, key, TrimJsonSpace(token));
            return simdjson::SUCCESS;
          }
        } else {
          error_code err = read_double(&d);
          if (err || !std::isfinite(d)) {
            if (err && !IsScalarError(err)) return err;
            rec.Problem(f, FieldError::kExpectedNumber, key, TrimJsonSpace(token));
            return simdjson::SUCCESS;
          }
        }
        slot.d = d;
        rec.Set(f);
        return simdjson::SUCCESS;
      }

      case FieldKind::kInt32:
      case FieldKind::kInt64:
      case FieldKind::kTimeMs:
      case FieldKind::kTimeUs:
      case FieldKind::kTimeSec: {
        int64_t i = 0;
        IntParse parsed = IntParse::kOk;
        if (is_string) {
          parsed = ParseIntegerText(text, &i);
        } else if (simple_integer != nullptr) {
          i = *simple_integer;
        } else if (!ParseSimpleInteger(token, &i)) {
          error_code err = read_integer(&i, &parsed);
          if (err) return err;
        }
        if (parsed == IntParse::kOk && kind == FieldKind::kInt32 &&
            (i < std::numeric_limits<int32_t>::min() || i > std::numeric_limits<int32_t>::max())) {
          parsed = IntParse::kOutOfRange;
        }
        if (parsed != IntParse::kOk) {
          FieldError e = parsed == IntParse::kNotInteger ? FieldError::kExpectedInteger
                         : (kind == FieldKind::kInt32 || kind == FieldKind::kInt64)
                             ? FieldError::kOutOfRange
                             : FieldError::kTimeOutOfRange;
          rec.Problem(f, e, key, TrimJsonSpace(token));
          return simdjson::SUCCESS;
        }
        slot.i = i;
        if (kind == FieldKind::kTimeMs || kind == FieldKind::kTimeUs ||
            kind == FieldKind::kTimeSec) {
          slot.s = TrimJsonSpace(token);
        }
        rec.Set(f);
        return simdjson::SUCCESS;
      }
    }
    return simdjson::SUCCESS;
  }

  static FieldError ExpectedError(FieldKind kind) {
    switch (kind) {
      case FieldKind::kString: return FieldError::kExpectedString;
      case FieldKind::kDouble: return FieldError::kExpectedNumber;
      case FieldKind::kIpv4: return FieldError::kInvalidIpv4;
      case FieldKind::kIpv6: return FieldError::kInvalidIpv6;
      case FieldKind::kMac: return FieldError::kInvalidMac;
      case FieldKind::kL7Proto: return FieldError::kInvalidL7;
      default: return FieldError::kExpectedInteger;
    }
  }

  // A JSON number as a double. simdjson 3.0.1 (Debian 12's) misreads a
  // decimal of more than 19 digits that ends in zeros: it gives 0.00693...
  // for 0.412764583199979700000 (the decoder fuzzer's fast-path
  // differential found it). Such numbers, rare in flows, are read with
  // from_chars, which rounds correctly, as the fast path does.
  static error_code ReadJsonDouble(od::value& value, std::string_view token, double* out) {
    int digits = 0;
    for (const char c : token) {
      if (c == 'e' || c == 'E') break;
      digits += static_cast<unsigned char>(c - '0') < 10;
    }
    if (digits <= 19) return value.get_double().get(*out);
    return ParseDoubleText(TrimJsonSpace(token), out) ? simdjson::SUCCESS : simdjson::NUMBER_ERROR;
  }

  // A JSON number as an integer; integral floats (12.0, 1e3) are accepted.
  // `token`: the number's raw JSON text.
  static error_code ReadJsonInteger(od::value& value, std::string_view token, int64_t* out,
                                    IntParse* parsed) {
    // The common case in one parse; a failed get_int64() does not consume
    // the value, so the slower classification below can read it again.
    if (!value.get_int64().get(*out)) return simdjson::SUCCESS;
    od::number_type nt;
    error_code err = value.get_number_type().get(nt);
    if (!err) {
      switch (nt) {
        case od::number_type::signed_integer:
          err = value.get_int64().get(*out);
          if (err == simdjson::NUMBER_OUT_OF_RANGE) {
            *parsed = IntParse::kOutOfRange;
            return simdjson::SUCCESS;
          }
          break;
        case od::number_type::unsigned_integer: {
          uint64_t u = 0;
          err = value.get_uint64().get(u);
          if (!err || err == simdjson::NUMBER_OUT_OF_RANGE) {
            *parsed = IntParse::kOutOfRange;  // >= 2^63
            return simdjson::SUCCESS;
          }
          break;
        }
        case od::number_type::floating_point_number: {
          double d = 0;
          err = ReadJsonDouble(value, token, &d);
          if (!err) {
            if (!std::isfinite(d) || std::floor(d) != d) {
              *parsed = IntParse::kNotInteger;
            } else if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
              *parsed = IntParse::kOutOfRange;
            } else {
              *out = static_cast<int64_t>(d);
            }
            return simdjson::SUCCESS;
          }
          break;
        }
      }
    }
    if (!err) return simdjson::SUCCESS;
    if (!IsScalarError(err)) return err;
    *parsed = err == simdjson::NUMBER_OUT_OF_RANGE ? IntParse::kOutOfRange : IntParse::kNotInteger;
    return simdjson::SUCCESS;
  }

  // ---- rec_ -> a row, or a reject ----

  // The address of one endpoint: a non-placeholder value of the family
  // IP_PROTOCOL_VERSION names if both are given, else IPv4.
  // IPv6 text is formatted here, only for the address kept.
  const IpAddress* ChooseAddress(NprobeField v4, NprobeField v6, int64_t version) {
    IpAddress* a4 = nullptr;
    IpAddress* a6 = nullptr;
    if (rec_.Has(v4) && !rec_.ip[static_cast<size_t>(v4)].IsUnspecified()) {
      a4 = &rec_.ip[static_cast<size_t>(v4)];
    }
    if (rec_.Has(v6) && !rec_.ip[static_cast<size_t>(v6)].IsUnspecified()) {
      a6 = &rec_.ip[static_cast<size_t>(v6)];
    }
    IpAddress* chosen = (a4 && a6) ? (version == 6 ? a6 : a4) : (a4 ? a4 : a6);
    if (chosen != nullptr && chosen->family == 6 && chosen->text_size == 0) FormatIpv6(chosen);
    return chosen;
  }

  // Why a required value is missing: its first bad source field, else `dflt`.
  std::string MissingReason(std::initializer_list<NprobeField> sources, std::string_view dflt) {
    for (NprobeField f : sources) {
      if (const FieldProblem* p = rec_.FindProblem(f)) return FormatProblem(*p);
    }
    return std::string(dflt);
  }

  void Finish(const SourcePosition& pos, std::string_view text, Target& target) {
    Record& rec = rec_;
    const bool has_version = rec.Has(NprobeField::kIpProtocolVersion);
    const int64_t version = has_version ? rec.at(NprobeField::kIpProtocolVersion).i : 0;

    const IpAddress* src = ChooseAddress(NprobeField::kIpv4Src, NprobeField::kIpv6Src, version);
    if (src == nullptr) {
      return RejectOrDefer(
          target, pos,
          MissingReason({NprobeField::kIpv4Src, NprobeField::kIpv6Src},
                        "missing src address (IPV4_SRC_ADDR/IPV6_SRC_ADDR)"),
          text);
    }
    const IpAddress* dst = ChooseAddress(NprobeField::kIpv4Dst, NprobeField::kIpv6Dst, version);
    if (dst == nullptr) {
      return RejectOrDefer(
          target, pos,
          MissingReason({NprobeField::kIpv4Dst, NprobeField::kIpv6Dst},
                        "missing dst address (IPV4_DST_ADDR/IPV6_DST_ADDR)"),
          text);
    }
    NprobeField start_field = NprobeField::kUnknown;
    for (NprobeField f : kStartFields) {
      if (rec.Has(f)) {
        start_field = f;
        break;
      }
    }
    if (start_field == NprobeField::kUnknown) {
      return RejectOrDefer(
          target, pos,
          MissingReason({kStartFields[0], kStartFields[1], kStartFields[2], kStartFields[3]},
                        "missing start time (FLOW_START_MILLISECONDS/FLOW_START_MICROSECONDS/"
                        "FLOW_START_SEC/FIRST_SWITCHED)"),
          text);
    }
    int64_t start_ms = 0;
    const NprobeFieldInfo& start_info = FieldInfo(start_field);
    if (!ToEpochMs(rec.at(start_field).i, start_info.kind, &start_ms) || start_ms < kMinTimeMs ||
        start_ms > kMaxTimeMs) {
      FieldProblem p{start_field, FieldError::kTimeOutOfRange, start_info.label,
                     rec.at(start_field).s};
      return RejectOrDefer(target, pos, FormatProblem(p), text);
    }

    bool has_end = false;
    int64_t end_ms = 0;
    for (NprobeField f : kEndFields) {
      if (!rec.Has(f)) continue;
      const NprobeFieldInfo& info = FieldInfo(f);
      if (ToEpochMs(rec.at(f).i, info.kind, &end_ms) && end_ms >= kMinTimeMs &&
          end_ms <= kMaxTimeMs) {
        has_end = true;
      } else {
        rec.Problem(f, FieldError::kTimeOutOfRange, info.label, rec.at(f).s);
      }
      break;
    }

    // Commit the row: every column gets exactly one append.
    FlowBatch& b = *target.batch;
    AppendDirectFields(b, std::make_index_sequence<std::size(kDirectFields)>());
    const IpAddress* exporter =
        ChooseAddress(NprobeField::kExporterIpv4, NprobeField::kExporterIpv6, 0);
    b.column(kExporterIp)
        .AppendStringOrNull(exporter ? exporter->Text() : std::string_view(), exporter != nullptr);
    b.column(kSrcIp).AppendStringOrNull(src->Text(), true);
    b.column(kDstIp).AppendStringOrNull(dst->Text(), true);
    b.column(kIpVersion)
        .AppendInt32OrNull(has_version ? static_cast<int32_t>(version) : src->family, true);
    const bool has_l7 = rec.Has(NprobeField::kL7Proto);
    b.column(kL7Master)
        .AppendInt32OrNull(static_cast<int32_t>(rec.at(NprobeField::kL7Proto).i), has_l7);
    b.column(kL7App).AppendInt32OrNull(rec.l7_app, has_l7);
    b.column(kStartTime).AppendInt64OrNull(start_ms, true);
    b.column(kEndTime).AppendInt64OrNull(end_ms, has_end);
    const bool has_duration = has_end && end_ms >= start_ms;
    b.column(kDurationMs).AppendInt64OrNull(has_duration ? end_ms - start_ms : 0, has_duration);

    DecoderStats& stats = *target.stats;
    ++stats.flows;
    stats.unknown_fields += rec.unknown;
    if (rec.errored != 0) {
      for (size_t i = 0; i < kNprobeFieldCount; ++i) {
        if (rec.errored & (uint64_t{1} << i)) {
          ++stats.field_errors;
          ++stats.field_errors_by_column[FieldInfo(static_cast<NprobeField>(i)).column];
        }
      }
      for (uint32_t i = 0; i < rec.num_problems; ++i) LogFieldProblem(pos, rec.problems[i]);
    }
  }

  // One append per direct field, specialised on the field's kind at compile
  // time: straight-line code instead of a table walk with a type switch.
  template <size_t... I>
  void AppendDirectFields(FlowBatch& b, std::index_sequence<I...>) {
    (AppendDirectField<kDirectFields[I]>(b), ...);
  }
  template <NprobeField F>
  [[gnu::always_inline]] void AppendDirectField(FlowBatch& b) {
    constexpr NprobeFieldInfo info = FieldInfo(F);
    Column& col = b.column(info.column);
    const bool has = rec_.Has(F);
    const Record::Slot& slot = rec_.at(F);
    if constexpr (info.kind == FieldKind::kInt32) {
      col.AppendInt32OrNull(static_cast<int32_t>(slot.i), has);
    } else if constexpr (info.kind == FieldKind::kInt64) {
      col.AppendInt64OrNull(slot.i, has);
    } else if constexpr (info.kind == FieldKind::kDouble) {
      col.AppendDoubleOrNull(slot.d, has);
    } else {
      col.AppendStringOrNull(slot.s, has);
    }
  }

  // ---- rejects and logs ----

  void RejectOrDefer(Target& target, const SourcePosition& pos, std::string reason,
                     std::string_view text) {
    if (target.defer_rejects) {
      pending_.push_back({RejectKind::kMissingFields, pos, std::move(reason), text});
    } else {
      Reject(RejectKind::kMissingFields, pos, std::move(reason), text);
    }
  }

  void RejectJson(const SourcePosition& pos, error_code err, std::string_view text) {
    std::string reason = "invalid JSON: ";
    reason += simdjson::error_message(err);
    Reject(RejectKind::kInvalidJson, pos, std::move(reason), text);
  }

  void RejectTooLarge(const SourcePosition& pos, std::string_view text) {
    ++stats_.records;
    std::string reason = "record too large: " + std::to_string(text.size()) +
                         " bytes > max_record_bytes " +
                         std::to_string(config_.max_record_bytes);
    Reject(RejectKind::kTooLarge, pos, std::move(reason), text);
  }

  void Reject(RejectKind kind, const SourcePosition& pos, std::string reason,
              std::string_view text) {
    ++stats_.rejected;
    switch (kind) {
      case RejectKind::kInvalidJson: ++stats_.rejected_invalid_json; break;
      case RejectKind::kNotObject: ++stats_.rejected_not_object; break;
      case RejectKind::kMissingFields: ++stats_.rejected_missing_fields; break;
      case RejectKind::kTooLarge: ++stats_.rejected_too_large; break;
    }
    if (reject_log_.Allow()) {
      uint64_t suppressed = reject_log_.TakeSuppressed();
      spdlog::warn("decode: rejected record at {} ({}{}): {}{}", pos.source, Where(pos),
                   ArraySuffix(pos), reason, SuppressedSuffix(suppressed));
    }
    sink_->Reject(pos, reason, text);
  }

  void LogFieldProblem(const SourcePosition& pos, const FieldProblem& p) {
    if (!field_log_.Allow()) return;
    uint64_t suppressed = field_log_.TakeSuppressed();
    spdlog::warn("decode: field set to null at {} ({}{}): {}{}", pos.source, Where(pos),
                 ArraySuffix(pos), FormatProblem(p), SuppressedSuffix(suppressed));
  }

  // "line 12, offset 345" in a file; "offset 345" for a Kafka message (no line).
  static std::string Where(const SourcePosition& pos) {
    std::string s = pos.line ? "line " + std::to_string(pos.line) + ", " : std::string();
    return s + "offset " + std::to_string(pos.offset);
  }
  static std::string ArraySuffix(const SourcePosition& pos) {
    return pos.array_index < 0 ? std::string() : ", array index " + std::to_string(pos.array_index);
  }
  static std::string SuppressedSuffix(uint64_t n) {
    return n == 0 ? std::string() : " (" + std::to_string(n) + " similar messages suppressed)";
  }
  static void AppendTruncated(std::string& s, std::string_view v) {
    if (v.size() > kMaxValueInMessage) {
      s.append(v.substr(0, kMaxValueInMessage));
      s += "...";
    } else {
      s.append(v);
    }
  }

  DecoderConfig config_;
  od::parser parser_;
  Record rec_;
  DecoderStats stats_;
  LogLimiter reject_log_;
  LogLimiter field_log_;
  FlowBatch* out_ = nullptr;
  RejectSink* sink_ = nullptr;
  std::vector<char> copy_;  // padded copy of un-padded input
  FlowBatch staged_;        // rows of the array being decoded
  DecoderStats array_stats_;
  std::vector<PendingReject> pending_;
  // The last two keys seen after each field (unknown keys share kUnknown's
  // entry; the last one is the object's start), see PredictedKey.
  std::array<std::array<PredictedKey, 2>, kNprobeFieldCount + 1> next_keys_{};
};

Status DecoderConfig::Validate() const {
  if (max_record_bytes == 0 || max_record_bytes > 0xFFFFFFFFu - kDecoderPadding) {
    return Status::InvalidArgument("decoder: max_record_bytes must be in [1, 4 GiB - 65], got " +
                                   std::to_string(max_record_bytes));
  }
  if (!std::isfinite(log_per_second) || log_per_second < 0 || !std::isfinite(log_burst) ||
      log_burst < 0) {
    return Status::InvalidArgument("decoder: log_per_second and log_burst must be >= 0");
  }
  return Status::Ok();
}

void DecoderStats::Add(const DecoderStats& o) {
  records += o.records;
  flows += o.flows;
  rejected += o.rejected;
  rejected_invalid_json += o.rejected_invalid_json;
  rejected_not_object += o.rejected_not_object;
  rejected_missing_fields += o.rejected_missing_fields;
  rejected_too_large += o.rejected_too_large;
  unknown_fields += o.unknown_fields;
  field_errors += o.field_errors;
  for (size_t i = 0; i < field_errors_by_column.size(); ++i) {
    field_errors_by_column[i] += o.field_errors_by_column[i];
  }
}

NprobeDecoder::NprobeDecoder(DecoderConfig config) {
  Status st = config.Validate();
  if (!st.ok()) throw std::invalid_argument(st.message());
  impl_ = std::make_unique<Impl>(config);
}

NprobeDecoder::~NprobeDecoder() = default;

uint64_t NprobeDecoder::DecodeChunk(const char* data, size_t size, size_t capacity,
                                    std::string_view source, uint64_t first_line,
                                    uint64_t base_offset, FlowBatch& out, RejectSink& rejects) {
  return impl_->DecodeChunk(data, size, capacity, source, first_line, base_offset, out, rejects);
}

void NprobeDecoder::DecodeMessage(std::string_view message, const SourcePosition& pos,
                                  FlowBatch& out, RejectSink& rejects) {
  impl_->DecodeMessage(message, pos, out, rejects);
}

const DecoderStats& NprobeDecoder::stats() const { return impl_->stats(); }

}  // namespace flowlake
