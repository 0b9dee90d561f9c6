#!/usr/bin/env bash
# Times `iso20k check` on a generated bundle of N incidents against a DuckDB reference that
# computes the same ticket-check results from the same CSV files, in the same run, and checks
# that the two agree. The last line is the result:
#   iso20k_s=<seconds> duckdb_s=<seconds> ratio=<iso20k/duckdb> peak_rss_mib=<n> agree=<true|false>
#
# usage: bench/run.sh [--incidents N] [--runs R]     (defaults: 1,000,000 incidents, best of 3)
set -euo pipefail
cd "$(dirname "$0")/.."

incidents=1000000
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --incidents) incidents="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: bench/run.sh [--incidents N] [--runs R]" >&2; exit 2 ;;
  esac
done

work=target/bench
venv="$work/venv"
bundle="$work/bundle-$incidents"
as_of=2026-06-30
mkdir -p "$work"

cargo build --release --quiet --no-default-features -p iso20k -p iso20k-gen
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet duckdb pyyaml
fi
# The bundle depends only on N and the generator's fixed seed; keep it between runs.
if [ ! -f "$bundle/.complete" ]; then
  ./target/release/iso20k-gen --incidents "$incidents" --out "$bundle"
  touch "$bundle/.complete"
fi

# Best wall-clock time of R runs for each side; peak memory of iso20k from GNU time.
best() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
iso_times=(); duck_times=(); peak=0
for _ in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -o "$work/time.txt" \
    ./target/release/iso20k check "$bundle" --as-of "$as_of" --format json --fail-on never > "$work/iso20k.json"
  read -r secs kib < "$work/time.txt"
  iso_times+=("$secs")
  [ "$kib" -gt "$peak" ] && peak=$kib
  /usr/bin/time -f "%e %M" -o "$work/time.txt" \
    "$venv/bin/python" bench/reference.py "$bundle" --as-of "$as_of" > "$work/duckdb.json"
  read -r secs _ < "$work/time.txt"
  duck_times+=("$secs")
done
# Import speed on a real ServiceNow export: the UCI event log, uncompressed (best of R).
uci=../shared/data/uci-incident-event-log/incident_event_log_120k.csv.gz
import_line=""
if [ -f "$uci" ]; then
  [ -f "$work/uci.csv" ] || gzip -dc "$uci" > "$work/uci.csv"
  rows=$(($(wc -l < "$work/uci.csv") - 1))
  import_times=()
  for _ in $(seq "$runs"); do
    rm -rf "$work/import-bundle"
    ./target/release/iso20k init "$work/import-bundle" > /dev/null
    /usr/bin/time -f "%e" -o "$work/time.txt" ./target/release/iso20k import "$work/import-bundle" "$work/uci.csv" > /dev/null
    import_times+=("$(cat "$work/time.txt")")
  done
  import_s=$(best "${import_times[@]}")
  import_line="import_rows=$rows import_s=$import_s import_rows_per_s=$(python3 -c "print(round($rows / max($import_s, 0.01)))")"
fi

iso=$(best "${iso_times[@]}")
duck=$(best "${duck_times[@]}")
agree=$("$venv/bin/python" bench/compare.py "$work/iso20k.json" "$work/duckdb.json")
ratio=$(python3 -c "print(f'{$iso / $duck:.2f}')")
echo "incidents=$incidents runs=$runs iso20k_runs=${iso_times[*]} duckdb_runs=${duck_times[*]}"
[ -n "$import_line" ] && echo "$import_line"
echo "iso20k_s=$iso duckdb_s=$duck ratio=$ratio peak_rss_mib=$((peak / 1024)) agree=$agree"
