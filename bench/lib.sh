# Shared by the bench/ scripts (sourced, not run). The caller sets BENCH (its
# name, for messages), BIN (the flowlake binary) and OUT (the output folder).

# The synthetic input for FLOWS flows, generated once: prints its path. With
# a second argument, the flows start over SPAN_MS milliseconds instead of the
# generator's default (2 hours): the density of the traffic, which decides
# how many hosts a 1-minute window holds.
bench_input() {
  local flows=$1 span=${2:-} input="$OUT/flows-$1.ndjson"
  local span_flag=()
  if [ -n "$span" ]; then
    input="$OUT/flows-$1-span$span.ndjson"
    span_flag=(--span-ms "$span")
  fi
  if [ ! -s "$input" ]; then
    echo "generating $flows flows -> $input" >&2
    "$BIN" generate --flows "$flows" --seed 1 "${span_flag[@]}" > "$input.tmp" || return 1
    mv "$input.tmp" "$input"
  fi
  echo "$input"
}

# Runs a command under /usr/bin/time; prints "seconds peak_rss_kb". Its
# stdout and stderr are kept in $OUT/last.out and $OUT/last.err.
measure() {
  local log="$OUT/time.log" t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$log" "$@" > "$OUT/last.out" 2> "$OUT/last.err" || {
    echo "$BENCH: command failed: $*" >&2; tail -n 40 "$OUT/last.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$log")"
}

# User + system CPU seconds of the last measure() (from its time.log).
last_cpu() { awk -F: '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$OUT/time.log"; }

# A numeric field of the JSON summary line in $OUT/last.out.
field() { grep -o "\"$1\":[0-9.]*" "$OUT/last.out" | cut -d: -f2; }

# The median of the numbers on stdin, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
