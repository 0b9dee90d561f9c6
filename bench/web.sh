#!/usr/bin/env bash
# Load-tests the team server on the demo organisation plus N generated incidents (and the
# changes, problems, configuration items and releases the generator makes with them), on SQLite.
# It times the import and the first readiness report, then measures with wrk, in the same run,
# the readiness report, a page of incidents and /healthz, the cheapest route, whose rate is the
# reference the other two are divided by. The last line is the result:
#   readiness_rps=<n> readiness_p99_ms=<ms> list_rps=<n> list_p99_ms=<ms> healthz_rps=<n>
#   incidents=<n> bundle_mib=<n> db_mib=<n> p99_ok=<true|false>
# p99_ok is readiness p99 under 50 ms; the script exits 1 when it is false, and also when any
# request failed (non-2xx/3xx answer or socket error).
#
# usage: bench/web.sh [--incidents N] [--duration SECS] [--connections C]
#        (defaults: 1,000,000 incidents, 20 s per endpoint, 32 connections)
set -euo pipefail
cd "$(dirname "$0")/.."

incidents=1000000
duration=20
connections=32
usage="usage: bench/web.sh [--incidents N] [--duration SECS] [--connections C]"
while [ $# -gt 0 ]; do
  case "$1" in
    --incidents) incidents="${2:?$usage}"; shift 2 ;;
    --duration) duration="${2:?$usage}"; shift 2 ;;
    --connections) connections="${2:?$usage}"; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
for n in "$incidents" "$duration" "$connections"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "$usage (whole numbers)" >&2; exit 2; }
done

work=target/bench
# The generator's bundle is the one bench/run.sh uses: same N, same seed, so either script
# reuses what the other generated.
generated="$work/bundle-$incidents"
bundle="$work/web-bundle-$incidents"
db="$work/web-$incidents.db"
url="sqlite://$db"
org=bench
email=bench@iso20k.example
as_of=2026-06-30
readiness_path="/api/v1/orgs/$org/readiness?as_of=$as_of"
# The first page at the default size (100): what a client listing incidents asks for first.
list_path="/api/v1/orgs/$org/records/incidents"
mkdir -p "$work"

# --- wrk -------------------------------------------------------------------------------------
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo > /dev/null; then
    sudo "$@"
  else
    return 1
  fi
}
if ! command -v wrk > /dev/null; then
  echo "wrk is missing: installing it with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  # The package index of a fresh container is often empty or stale: update only if the first
  # attempt fails, so a machine that can install without it does not wait for the update.
  if ! { as_root apt-get install -y -qq wrk > /dev/null 2>&1 ||
    { as_root apt-get update -qq && as_root apt-get install -y -qq wrk > /dev/null; }; }; then
    echo "error: cannot install wrk with apt-get (needs root or sudo, and a Debian/Ubuntu package" \
      "source); install wrk yourself (https://github.com/wg/wrk) and rerun" >&2
    exit 1
  fi
fi
command -v curl > /dev/null || { echo "error: curl is needed" >&2; exit 1; }

# --- build and bundle --------------------------------------------------------------------------
cargo build --release --quiet --no-default-features -p iso20k -p iso20k-gen
bin=./target/release/iso20k

secs() { python3 -c "import sys; print(f'{float(sys.argv[1]):.2f}')" "$1"; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$(now)"; }

# The bundle depends only on N, the generator's fixed seed and examples/demo; keep it between
# runs. Delete target/bench/web-bundle-* after changing either.
if [ ! -f "$generated/.complete" ]; then
  t0=$(now)
  ./target/release/iso20k-gen --incidents "$incidents" --out "$generated"
  touch "$generated/.complete"
  echo "generated $incidents incidents in $(elapsed "$t0") s"
fi
if [ ! -f "$bundle/.complete" ]; then
  t0=$(now)
  rm -rf "$bundle" "$bundle.tmp"
  # The demo organisation's own files, with the generated ticket rows appended to its ticket
  # tables. Two things keep the result one coherent organisation rather than two pasted
  # together: the generated ids (INC0000001, CHG0000001, ... up to N) are moved past the
  # demo's (INC0010260, CHG0004402, ...), references included; and the generator's 30
  # services, which the demo's catalogue lacks, become the demo's live services (by id, or by
  # name where the generator names a service by name). Its deliberate flaws, such as the odd
  # ticket naming a service no catalogue has, stay. Columns are matched by name: the two
  # differ in which optional columns they have.
  python3 - examples/demo "$generated" "$bundle.tmp" << 'PY'
import csv, os, re, shutil, sys

demo, generated, out = sys.argv[1:4]
shutil.copytree(os.path.join(demo, "tickets"), os.path.join(out, "tickets"))
for name in os.listdir(demo):
    if name.endswith((".yaml", ".csv")):
        shutil.copy(os.path.join(demo, name), out)

# services.yaml is a list of `  - id:` blocks; a block with a lifecycle is not live.
text = open(os.path.join(demo, "services.yaml"), encoding="utf-8").read()
live = []
for block in re.split(r"\n  - (?=id:)", text)[1:]:
    fields = dict(re.findall(r"^\s*(id|name|lifecycle): (.+)$", block, re.M))
    if "lifecycle" not in fields:
        live.append((fields["id"].strip(), fields["name"].strip()))
if not live:
    sys.exit("examples/demo/services.yaml: no live service found to map the tickets onto")

def service(value):
    m = re.fullmatch(r"SVC-(\d+)", value)
    if m:
        return live[(int(m[1]) - 1) % len(live)][0]
    m = re.fullmatch(r"Service (\d+)", value)
    if m:
        return live[(int(m[1]) - 1) % len(live)][1]
    return value

OFFSET = 5_000_000
ID = re.compile(r"(INC|CHG|PRB|CI)(\d+)")
def shift(value):
    m = ID.fullmatch(value)
    return f"{m[1]}{int(m[2]) + OFFSET:0{len(m[2])}d}" if m else value

for name in sorted(os.listdir(os.path.join(generated, "tickets"))):
    gen_path = os.path.join(generated, "tickets", name)
    demo_path = os.path.join(demo, "tickets", name)
    with open(gen_path, newline="", encoding="utf-8") as g:
        gen = csv.reader(g)
        gen_header = next(gen)
        demo_rows = []
        header = list(gen_header)
        if os.path.exists(demo_path):
            with open(demo_path, newline="", encoding="utf-8") as d:
                dr = csv.reader(d)
                demo_header = next(dr)
                demo_rows = [dict(zip(demo_header, row)) for row in dr]
            header = demo_header + [c for c in gen_header if c not in demo_header]
        ids = {i for i, c in enumerate(gen_header) if c in ("id", "ci", "problem", "change")}
        svc = gen_header.index("service") if "service" in gen_header else -1
        order = [gen_header.index(c) if c in gen_header else -1 for c in header]
        with open(os.path.join(out, "tickets", name), "w", newline="", encoding="utf-8") as o:
            w = csv.writer(o, lineterminator="\n")
            w.writerow(header)
            for row in demo_rows:
                w.writerow([row.get(c, "") for c in header])
            for row in gen:
                for i in ids:
                    row[i] = shift(row[i])
                if svc >= 0:
                    row[svc] = service(row[svc])
                w.writerow([row[i] if i >= 0 else "" for i in order])
PY
  mv "$bundle.tmp" "$bundle"
  touch "$bundle/.complete"
  echo "built the demo + $incidents incidents bundle in $(elapsed "$t0") s"
fi

# --- database --------------------------------------------------------------------------------
# A fresh file every run: the import time is that of a first import, and no report computed by
# an earlier run is waiting in the store's readiness cache.
rm -f "$db" "$db-wal" "$db-shm"
/usr/bin/time -f "%e %M" -o "$work/time.txt" \
  "$bin" import-bundle "$bundle" --org "$org" --database "$url" > "$work/web-import.txt"
read -r import_s import_kib < "$work/time.txt"
echo "import: $(cat "$work/web-import.txt")"
echo "import_s=$import_s import_peak_rss_mib=$((import_kib / 1024))"
echo "bench-password-$RANDOM$RANDOM" |
  "$bin" user add "$email" --org "$org" --role viewer --password-stdin --database "$url" > /dev/null
token=$("$bin" token create "$email" --name "bench/web.sh" --database "$url")

# --- server ----------------------------------------------------------------------------------
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2> /dev/null; then
    kill "$server" 2> /dev/null || true
    wait "$server" 2> /dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Port 0: the system picks a free port, so two runs (or a server already on 8020) never clash;
# the server says which on its first line. Empty the file first: the shell truncates it only
# once the server's process exists, and the loop below could still read the last run's port.
: > "$work/web-server.out"
"$bin" serve --database "$url" --listen 127.0.0.1:0 \
  > "$work/web-server.out" 2> "$work/web-server.log" &
server=$!
addr=""
for _ in $(seq 300); do
  addr=$(sed -n '1s|^Serving on http://\([^ ]*\) .*|\1|p' "$work/web-server.out")
  [ -n "$addr" ] && break
  kill -0 "$server" 2> /dev/null || break
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "error: the server did not start; its log ($work/web-server.log):" >&2
  tail -20 "$work/web-server.log" >&2
  exit 1
fi
base="http://$addr"
auth="Authorization: Bearer $token"

# The first request computes the report (every record read, parsed and checked); later ones
# are served from cache. Timed apart, as it is what the first user after an import waits.
first=$(curl -sS --max-time 900 -o "$work/web-readiness.json" -w '%{http_code} %{time_total}' \
  -H "$auth" "$base$readiness_path")
read -r code first_s <<< "$first"
if [ "$code" != 200 ]; then
  echo "error: readiness answered $code: $(head -c 500 "$work/web-readiness.json")" >&2
  exit 1
fi
echo "first_readiness_s=$(secs "$first_s") report_kib=$(($(stat -c %s "$work/web-readiness.json") / 1024)) server_rss_mib=$(($(awk '/^VmRSS/ {print $2}' "/proc/$server/status") / 1024))"
list_code=$(curl -sS --max-time 60 -o "$work/web-list.json" -w '%{http_code}' -H "$auth" "$base$list_path")
if [ "$list_code" != 200 ]; then
  echo "error: the incident list answered $list_code: $(head -c 500 "$work/web-list.json")" >&2
  exit 1
fi
held=$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['total'])" "$work/web-list.json")

# Runs wrk on one path and sets <name>_rps, <name>_p50, <name>_p99 (ms), <name>_non2xx
# (answers wrk counts as non-2xx/3xx) and <name>_sockerr (socket errors) from its report.
failed=0
measure() {
  local name="$1" path="$2" out="$work/web-wrk-$1.txt"
  # wrk drops a request that takes longer than its timeout (2 s by default) from the latency
  # figures and counts it as an error; a generous timeout keeps slow answers in the p99.
  wrk -t2 -c"$connections" -d"${duration}s" --timeout 30s --latency -H "$auth" "$base$path" > "$out"
  # wrk prints latencies as 812.00us, 1.20ms, 2.01s or 1.00m.
  local values
  values=$(awk '
    function ms(v) {
      if (v ~ /us$/) return v / 1000
      if (v ~ /ms$/) return v + 0
      if (v ~ /m$/) return v * 60000
      if (v ~ /s$/) return v * 1000
      return v + 0
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(",", ""); sockerr = $4 + $6 + $8 + $10 }
    END { printf "%.0f %.2f %.2f %d %d\n", rps, p50, p99, non2xx, sockerr }' "$out")
  read -r "${name}_rps" "${name}_p50" "${name}_p99" "${name}_non2xx" "${name}_sockerr" \
    <<< "$values"
  local non2xx="${name}_non2xx" sockerr="${name}_sockerr"
  if [ "${!non2xx}" -ne 0 ] || [ "${!sockerr}" -ne 0 ]; then
    echo "error: $path: ${!non2xx} non-2xx answers, ${!sockerr} socket errors (see $out)" >&2
    failed=1
  fi
}
measure healthz /healthz
measure readiness "$readiness_path"
measure list "$list_path"
peak_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$server/status")
cleanup
server=""

mib() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1048576:.1f}')" "$1"; }
bundle_mib=$(mib "$(du -sb "$bundle" | cut -f1)")
db_bytes=$(stat -c %s "$db")
# With its write-ahead log, if the server left one.
if [ -f "$db-wal" ]; then db_bytes=$((db_bytes + $(stat -c %s "$db-wal"))); fi
db_mib=$(mib "$db_bytes")
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / max(float(sys.argv[2]), 1):.3f}')" "$1" "$2"; }
echo "wrk: $duration s per endpoint, $connections connections, 2 threads; ratio = rps / healthz rps"
printf '%-10s %9s %9s %9s %8s %8s %7s\n' endpoint rps p50_ms p99_ms non_2xx sock_err ratio
for name in healthz readiness list; do
  rps="${name}_rps" p50="${name}_p50" p99="${name}_p99"
  non2xx="${name}_non2xx" sockerr="${name}_sockerr"
  printf '%-10s %9s %9s %9s %8s %8s %7s\n' "$name" "${!rps}" "${!p50}" "${!p99}" \
    "${!non2xx}" "${!sockerr}" "$(ratio "${!rps}" "$healthz_rps")"
done
echo "bundle: $held incidents ($incidents generated), $bundle_mib MiB on disk; database: $db_mib MiB; server peak RSS: $((peak_kib / 1024)) MiB"
p99_ok=$(python3 -c "import sys; print(str(float(sys.argv[1]) < 50).lower())" "$readiness_p99")
[ "$p99_ok" = true ] || echo "error: readiness p99 is $readiness_p99 ms, over 50 ms" >&2
echo "readiness_rps=$readiness_rps readiness_p99_ms=$readiness_p99 list_rps=$list_rps list_p99_ms=$list_p99 healthz_rps=$healthz_rps incidents=$held bundle_mib=$bundle_mib db_mib=$db_mib p99_ok=$p99_ok"
[ "$p99_ok" = true ] && [ "$failed" -eq 0 ]
