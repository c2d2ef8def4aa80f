# Sourced by the benchmark scripts: wall-clock timing helpers.

now() { date +%s.%N; }

# time_of CMD…: wall seconds of one run; a failed run stops the benchmark (a timing of a
# failure is no timing), with the command's output.
time_of() {
  local t0 t1 log
  log=$(mktemp)
  t0=$(now)
  "$@" >"$log" 2>&1 || { echo "bench: failed: $*" >&2; tail -n 20 "$log" >&2; rm -f "$log"; exit 1; }
  t1=$(now)
  rm -f "$log"
  echo "$t1 - $t0" | bc -l
}

min() { printf '%s\n' "$@" | sort -g | head -n1; }
