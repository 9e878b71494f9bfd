// AppendJsonString: text as a JSON string literal, for the NDJSON files
// flowlake writes (dead letters, commit records, rollups, JSON logs).
#pragma once

#include <string>
#include <string_view>

namespace flowlake {

// Appends `s` to `out` as a JSON string literal (with quotes). `s` must be
// valid UTF-8 (callers check untrusted text first); control characters are
// escaped, everything else is copied as is.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace flowlake
