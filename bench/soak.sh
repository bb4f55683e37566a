#!/usr/bin/env bash
# Soak run: a mixed load against `steward serve` on PostgreSQL for a long
# time (default one hour), sampling the replicas once a minute into a CSV, to
# show whether memory, goroutines and errors stay flat. Not part of CI.
#
#   apt-get install -y wrk
#   bench/soak.sh                        # one hour, one replica
#   DURATION_MIN=10 REPLICAS=3 bench/soak.sh
#   bench/soak.sh --summary soak.csv     # the summary of a CSV again
#
# The load is one wrk per replica (CONNECTIONS connections, default 4), each
# connection pausing PAUSE_MS (default 40) between requests, cycling through
# 100 requests: 45 ARM reads of a resource group, 20 ARM writes (PUT of one of
# 500 sites, so the estate stays the same size), 15 client-credentials tokens,
# 19 Logs Ingestion posts of 10 rows, and 1 KQL summarize over the last
# 10 minutes of the ingested table. wrk runs in rounds of a minute (the last
# one shorter) until DURATION_MIN minutes of wall time have passed; after
# each round the script writes one CSV row (minute is the round's number,
# utc when it was sampled; sampling takes a few seconds more on a loaded
# machine, so rounds are a little more than a minute apart):
#
#   minute,utc,rss_kb,heap_alloc_bytes,heap_inuse_bytes,goroutines,open_fds,
#   requests,rps,p99_ms,wrk_errors,http_4xx_total,http_5xx_total,panics_total,
#   cpu_seconds_total,db_bytes,loadavg1
#
# rss_kb is summed over the replicas (from /proc), heap, goroutines and fds
# are summed over their /metrics, http_*_total and cpu_seconds_total
# (process_cpu_seconds_total) are cumulative since the start
# (http_* from steward_http_requests_total), wrk_errors are the round's
# connection, timeout and non-2xx/3xx answers. At the end it prints the mean
# of the rows of the first and last ten minutes and the least-squares slope
# per hour (over the utc column) of RSS, heap, goroutines and errors.
#
# PG (default postgres://postgres@127.0.0.1:5432/test) names the server; a
# fresh database (DB, default stw_soak) is created and dropped afterwards.
# OUT (default ./soak-<utc>.csv) is the CSV; PORT (default 18700) the first
# port; BIN a steward binary to run instead of building one from this tree.
set -euo pipefail

summary() { # csv
  python3 - "$1" <<'PY'
import csv, sys, datetime
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["minute"] != "0"]
ts = [datetime.datetime.fromisoformat(r["utc"].replace("Z", "+00:00")).timestamp() / 3600 for r in rows]
first = [r for r, t in zip(rows, ts) if t - ts[0] < 10 / 60]
last = [r for r, t in zip(rows, ts) if ts[-1] - t < 10 / 60]
def mean(rs, k): return sum(float(r[k]) for r in rs) / max(len(rs), 1)
def slope(k):  # least squares, per hour
    ys = [float(r[k]) for r in rows]; n = len(ts); mx = sum(ts) / n; my = sum(ys) / n
    d = sum((x - mx) ** 2 for x in ts)
    return sum((x - mx) * (y - my) for x, y in zip(ts, ys)) / d if d else 0
print("%d rounds over %.1f min, from %s to %s" % (len(rows), 60 * (ts[-1] - ts[0]), rows[0]["utc"], rows[-1]["utc"]))
print("metric,first_10min_mean,last_10min_mean,slope_per_hour")
for k, scale in (("rss_kb", 1 / 1024), ("heap_alloc_bytes", 1 / 2**20), ("heap_inuse_bytes", 1 / 2**20),
                 ("goroutines", 1), ("open_fds", 1), ("rps", 1), ("p99_ms", 1), ("wrk_errors", 1), ("db_bytes", 1 / 2**20)):
    unit = " MiB" if scale != 1 else ""
    print("%s%s,%.1f,%.1f,%.2f" % (k, unit, mean(first, k) * scale, mean(last, k) * scale, slope(k) * scale))
if "cpu_seconds_total" in rows[0]:  # CPU of the replicas per request, per round
    all_rows = list(csv.DictReader(open(sys.argv[1])))
    per = {r["minute"]: 1000 * (float(r["cpu_seconds_total"]) - float(p["cpu_seconds_total"])) / max(int(r["requests"]), 1)
           for p, r in zip(all_rows, all_rows[1:])}
    print("cpu_ms_per_request,%.2f,%.2f" % (sum(per[r["minute"]] for r in first) / len(first), sum(per[r["minute"]] for r in last) / len(last)))
print("total requests %d, wrk errors %d, 4xx %s, 5xx %s, panics %s (server counts since start)" % (
    sum(int(r["requests"]) for r in rows), sum(int(r["wrk_errors"]) for r in rows),
    rows[-1]["http_4xx_total"], rows[-1]["http_5xx_total"], rows[-1]["panics_total"]))
PY
}
if [[ ${1:-} == --summary ]]; then summary "$2"; exit; fi

pg=${PG:-postgres://postgres@127.0.0.1:5432/test}
minutes=${DURATION_MIN:-60}
replicas=${REPLICAS:-1}
conns=${CONNECTIONS:-4}
pause=${PAUSE_MS:-40}
db=${DB:-stw_soak}
port0=${PORT:-18700}
out=${OUT:-$PWD/soak-$(date -u +%Y%m%dT%H%M%S).csv}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
work=$(mktemp -d)
bin=${BIN:-$work/steward} # BIN: a steward binary built beforehand
[[ -n ${BIN:-} ]] || (cd "$root" && go build -o "$bin" ./cmd/steward)
export STEWARD_ROOT_KEY_FILE=$work/root.key # every replica shares the root key
export STEWARD_ARM_THROTTLING=off           # measure the server, not Azure's per-principal buckets

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  psql "$pg" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  [[ -n ${KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT

psql "$pg" -qc "DROP DATABASE IF EXISTS $db" >/dev/null
psql "$pg" -qc "CREATE DATABASE $db" >/dev/null
for i in $(seq 1 "$replicas"); do
  "$bin" serve --data "$work/r$i" --listen "127.0.0.1:$((port0 + i))" --proxy '' \
    --public-url "https://localhost:$((port0 + 1))/" --store "${pg%/*}/$db" >"$work/r$i.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 180); do
    curl -skf "https://127.0.0.1:$((port0 + i))/readyz" >/dev/null 2>&1 && break
    sleep 1
  done
  curl -skf "https://127.0.0.1:$((port0 + i))/readyz" >/dev/null || { echo "replica $i not ready" >&2; tail "$work/r$i.log" >&2; exit 1; }
done

data=$work/r1
st() { "$bin" "$@" --data "$data"; }
bs() { python3 -c "import json; print(json.load(open('$data/bootstrap.json'))['$1'])"; }
tenant=$(bs tenantId); sub=$(bs subscriptionId); app=$(bs clientId); secret=$(bs clientSecret); oid=$(bs objectId)
cacert=$(bs caCertPath)
base=https://127.0.0.1:$((port0 + 1))
arm=$(st token)
c() { curl -sS --fail-with-body --cacert "$cacert" -H "Authorization: Bearer $arm" -H 'Content-Type: application/json' "$@"; }
logs_setup Soak

# The wrk script; written again every 10 minutes with fresh tokens, because a
# token lives about an hour and the run is longer than that.
write_lua() {
  arm=$(st token)
  local mon la
  mon=$(st token --resource https://monitor.azure.com)
  la=$(st token --resource https://api.loganalytics.io)
  cat >"$work/soak.lua" <<LUA
local n = 0
local tag = math.random(1, 1e9)
local arm = {["Authorization"] = "Bearer $arm", ["Content-Type"] = "application/json"}
local form = {["Content-Type"] = "application/x-www-form-urlencoded"}
local mon = {["Authorization"] = "Bearer $mon", ["Content-Type"] = "application/json"}
local la = {["Authorization"] = "Bearer $la", ["Content-Type"] = "application/json"}
local token = "grant_type=client_credentials&client_id=$app&client_secret=$secret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
local kql = '{"query":"Soak_CL | where TimeGenerated > ago(10m) | summarize count(), avg(Value) by Resource | top 10 by count_"}'
request = function()
  n = n + 1
  local k = n % 100
  if k < 45 then
    return wrk.format("GET", "$rg?api-version=2022-09-01", arm)
  elseif k < 65 then
    return wrk.format("PUT", "$rg/providers/Microsoft.Web/sites/s" .. (n % 500) .. "?api-version=2022-03-01", arm,
      '{"location":"westeurope","tags":{"soak":"' .. tag .. '-' .. n .. '"}}')
  elseif k < 80 then
    return wrk.format("POST", "/$tenant/oauth2/v2.0/token", form, token)
  elseif k < 99 then
    local rows = {}
    local t = os.date("!%Y-%m-%dT%H:%M:%SZ")
    for i = 1, 10 do rows[i] = string.format('{"TimeGenerated":"%s","Resource":"r%d","Value":%d}', t, (n + i) % 50, n) end
    return wrk.format("POST", "/ingest/dataCollectionRules/$dcr/streams/Custom-Soak?api-version=2023-01-01", mon,
      "[" .. table.concat(rows, ",") .. "]")
  else
    return wrk.format("POST", "/v1/workspaces/$cust/query", la, kql)
  end
end
delay = function() return $pause end
done = function(summary, latency, requests)
  local errs = summary.errors.connect + summary.errors.read + summary.errors.write
             + summary.errors.status + summary.errors.timeout
  io.write(string.format("{\"requests\":%d,\"seconds\":%.3f,\"p99_ms\":%.2f,\"errors\":%d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(99) / 1000, errs))
end
LUA
}

# sample prints the replicas' summed RSS, heap, goroutines, fds and
# cumulative 4xx, 5xx and panics as comma-separated fields.
sample() {
  local rss=0 i p
  for p in "${pids[@]}"; do
    rss=$((rss + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status")))
  done
  for i in $(seq 1 "$replicas"); do
    curl -skf "https://127.0.0.1:$((port0 + i))/metrics"
  done | python3 -c '
import sys, re
tot = {"heap": 0, "inuse": 0, "gor": 0, "fds": 0, "4xx": 0, "5xx": 0, "panics": 0, "cpu": 0}
for line in sys.stdin:
    if line.startswith("#"):
        continue
    name, _, value = line.rpartition(" ")
    v = float(value)
    if name == "go_memstats_heap_alloc_bytes": tot["heap"] += v
    elif name == "go_memstats_heap_inuse_bytes": tot["inuse"] += v
    elif name == "go_goroutines": tot["gor"] += v
    elif name == "process_open_fds": tot["fds"] += v
    elif name == "steward_http_panics_total": tot["panics"] += v
    elif name == "process_cpu_seconds_total": tot["cpu"] += v
    elif name.startswith("steward_http_requests_total{"):
        m = re.search(r"code=\"(\d)", name)
        if m and m.group(1) in "45": tot[m.group(1) + "xx"] += v
print("%d,%d,%d,%d" % (tot["heap"], tot["inuse"], tot["gor"], tot["fds"]), end=",")
print("%d,%d,%d,%.2f" % (tot["4xx"], tot["5xx"], tot["panics"], tot["cpu"]), end="")
' | { IFS=, read -r heap inuse gor fds e4 e5 pan cpu; echo "$rss,$heap,$inuse,$gor,$fds|$e4,$e5,$pan,$cpu"; }
}

echo "minute,utc,rss_kb,heap_alloc_bytes,heap_inuse_bytes,goroutines,open_fds,requests,rps,p99_ms,wrk_errors,http_4xx_total,http_5xx_total,panics_total,cpu_seconds_total,db_bytes,loadavg1" >"$out"
s=$(sample)
echo "0,$(date -u +%FT%TZ),${s%|*},0,0,0,0,${s#*|},$(psql "$pg" -tAc "SELECT pg_database_size('$db')"),$(cut -d' ' -f1 /proc/loadavg)" >>"$out"
end=$(($(date +%s) + minutes * 60))
m=0
while (($(date +%s) < end)); do
  m=$((m + 1))
  if (((m - 1) % 10 == 0)); then write_lua; fi
  round=$((end - $(date +%s)))
  ((round <= 60)) || round=60
  ((round >= 1)) || round=1
  outs=()
  for i in $(seq 1 "$replicas"); do
    wrk -t1 -c"$conns" -d"${round}s" --timeout 30s -s "$work/soak.lua" "https://127.0.0.1:$((port0 + i))" >"$work/wrk-$i.out" 2>&1 &
    outs+=($!)
  done
  for p in "${outs[@]}"; do wait "$p" || true; done
  round=$(cat "$work"/wrk-*.out | python3 -c '
import json, sys
runs = [json.loads(l) for l in sys.stdin if l.startswith("{")]
req = sum(r["requests"] for r in runs)
secs = max([r["seconds"] for r in runs] or [60])
print("%d,%.1f,%.2f,%d" % (req, req / secs, max([r["p99_ms"] for r in runs] or [0]), sum(r["errors"] for r in runs)))')
  s=$(sample)
  echo "$m,$(date -u +%FT%TZ),${s%|*},$round,${s#*|},$(psql "$pg" -tAc "SELECT pg_database_size('$db')"),$(cut -d' ' -f1 /proc/loadavg)" >>"$out"
done

summary "$out"
echo "CSV: $out"
