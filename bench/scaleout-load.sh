#!/usr/bin/env bash
# Load runs of the embedded cloud with wrk over loopback: ARM reads and
# writes, token issuance, Logs Ingestion, KQL and vending (resource-group
# requests to /vending/v1/resourceGroups, bench/vending.lua), against
#   sqlite1  one replica on SQLite
#   pg1      one replica on PostgreSQL
#   pg3      three replicas on one PostgreSQL database (a wrk per replica,
#            run at once; requests/s are summed, p99 is the worst of the three)
# Not part of CI (it takes minutes and needs wrk and PostgreSQL):
#
#   apt-get install -y wrk
#   bench/scaleout-load.sh                      # all three
#   bench/scaleout-load.sh pg3                  # one
#
# PG (default postgres://postgres@127.0.0.1:5432/test) names the server; a
# fresh database is created beside the one named and dropped afterwards.
# DURATION (default 15s), CONNECTIONS (per wrk, default 8), THREADS
# (default 2) and PORT (first port, default 18600) tune the run. The output
# is one JSON line per (deployment, scenario). Replicas share one public URL (the
# first replica's) (as behind a load balancer), so a token from one is valid
# on all. After the vending scenario a second line (scenario vending-groups)
# counts the groups made once no request is InProgress any more.
set -euo pipefail

modes=("$@")
[[ ${#modes[@]} -gt 0 ]] || modes=(sqlite1 pg1 pg3)
pg=${PG:-postgres://postgres@127.0.0.1:5432/test}
duration=${DURATION:-15s}
conns=${CONNECTIONS:-8}
threads=${THREADS:-2}
port0=${PORT:-18600}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
work=$(mktemp -d)
bin=$work/steward
(cd "$root" && go build -o "$bin" ./cmd/steward)
export STEWARD_ROOT_KEY_FILE=$work/root.key # every replica shares the root key
export STEWARD_ARM_THROTTLING=off # measure the server, not Azure's per-principal buckets

pids=()
db=""
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  if [[ -n $db ]]; then psql "$pg" -qc "DROP DATABASE IF EXISTS $db" >/dev/null || true; db=""; fi
}
trap 'stop_all; [[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT

# The done() every scenario shares: one JSON line.
done_lua='
function done(summary, latency, requests)
  local errs = summary.errors.connect + summary.errors.read + summary.errors.write
             + summary.errors.status + summary.errors.timeout
  io.write(string.format("{\"requests\":%d,\"seconds\":%.3f,\"rps\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"errors\":%d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errs))
end
'

start_replicas() { # mode
  local mode=$1 n=1
  storeflag=()
  case $mode in
    sqlite1) ;;
    pg1) n=1 ;;
    pg3) n=3 ;;
  esac
  if [[ $mode == pg* ]]; then
    db=stw_load_$$_$mode
    psql "$pg" -qc "CREATE DATABASE $db" >/dev/null
    storeflag=(--store "${pg%/*}/$db")
  fi
  for i in $(seq 1 "$n"); do
    local data=$work/$mode-$i
    "$bin" serve --data "$data" --listen "127.0.0.1:$((port0 + i))" --proxy '' --public-url "https://localhost:$((port0 + 1))/" "${storeflag[@]}" >"$data.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 120); do # ready: its store answers
      curl -skf "https://127.0.0.1:$((port0 + i))/readyz" >/dev/null 2>&1 && break
      sleep 1
    done
    if [[ $mode == pg3 && $i == 1 ]]; then sleep 1; fi # the first one bootstraps the tenant alone
  done
  replicas=$n
}

run_wrk() { # mode scenario script.lua
  local mode=$1 scenario=$2 script=$3 outs=()
  for i in $(seq 1 "$replicas"); do
    REPLICA=$i wrk -t"$threads" -c"$conns" -d"$duration" --timeout 30s -s "$script" "https://127.0.0.1:$((port0 + i))" >"$work/wrk-$scenario-$i.out" 2>&1 &
    outs+=($!)
  done
  for p in "${outs[@]}"; do wait "$p"; done
  python3 - "$mode" "$scenario" "$replicas" "$work" <<'PY'
import json, sys, glob
mode, scenario, n, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
runs = []
for i in range(1, n + 1):
    for line in open(f"{work}/wrk-{scenario}-{i}.out"):
        if line.startswith("{"):
            runs.append(json.loads(line))
if len(runs) != n:
    print(json.dumps({"deployment": mode, "scenario": scenario, "error": "wrk printed no summary"})); sys.exit(0)
load = open("/proc/loadavg").read().split()[:3]
print(json.dumps({"deployment": mode, "scenario": scenario, "replicas": n,
  "rps": round(sum(r["rps"] for r in runs), 1), "p50_ms": max(r["p50_ms"] for r in runs),
  "p99_ms": max(r["p99_ms"] for r in runs), "requests": sum(r["requests"] for r in runs),
  "errors": sum(r["errors"] for r in runs), "loadavg": load}))
PY
}

# vending_run MODE sets up vending (vending_setup in bench/lib.sh), loads
# every replica with resource-group requests, waits until none is
# InProgress and prints the groups made.
vending_run() {
  local mode=$1 started
  vending_setup
  smoke POST /vending/v1/resourceGroups "$vtok" \
    "{\"subscriptionId\":\"$sub\",\"name\":\"smoke\",\"environment\":\"dev\",\"costCenter\":\"cc1\",\"region\":\"westeurope\",\"tags\":{\"Owner\":\"load\"}}"
  { echo "wrk.headers[\"Authorization\"] = \"Bearer $vtok\""; cat "$root/bench/vending.lua"; echo "$done_lua"; } >"$work/vending.lua"
  started=$(date +%s.%N)
  SUB=$sub run_wrk "$mode" vending "$work/vending.lua"
  for i in $(seq 1 "$replicas"); do grep -h '^refused:' "$work/wrk-vending-$i.out" | sed "s/^/replica $i: /" >&2 || true; done
  # Each accepted request is carried out in the background.
  local waited=0
  while st rg list -o json | python3 -c "import json,sys; sys.exit(0 if any(r['status']=='InProgress' for r in json.load(sys.stdin)) else 1)"; do
    sleep 1; waited=$((waited + 1))
    if ((waited > 600)); then echo "vending: requests still InProgress after 600 s" >&2; break; fi
  done
  st rg list -o json | python3 -c "
import json,sys,time
recs=json.load(sys.stdin)
ok=sum(r['status']=='Succeeded' for r in recs)
why={}
for r in recs:
    if r['status']!='Succeeded':
        m=r['status']+': '+((r.get('error') or {}).get('message',''))[:160]
        why[m]=why.get(m,0)+1
secs=time.time()-$started
print(json.dumps({'deployment':'$mode','scenario':'vending-groups','records':len(recs),'succeeded':ok,'failed':len(recs)-ok,
  'seconds':round(secs,1),'groups_per_s':round(ok/secs,1),'why':why,'loadavg':open('/proc/loadavg').read().split()[:3]}))"
}

for mode in "${modes[@]}"; do
  start_replicas "$mode"
  data=$work/$mode-1
  st() { "$bin" "$@" --data "$data"; }
  bs() { python3 -c "import json; print(json.load(open('$data/bootstrap.json'))['$1'])"; }
  tenant=$(bs tenantId); sub=$(bs subscriptionId); app=$(bs clientId); secret=$(bs clientSecret); oid=$(bs objectId)
  base=https://127.0.0.1:$((port0 + 1))
  arm=$(st token)
  cacert=$(bs caCertPath)
  c() { curl -sS --fail-with-body --cacert "$cacert" -H "Authorization: Bearer $arm" -H 'Content-Type: application/json' "$@"; }
  logs_setup Load
  mon=$(st token --resource https://monitor.azure.com)
  la=$(st token --resource https://api.loganalytics.io)

  cat >"$work/read.lua" <<LUA
wrk.method = "GET"
wrk.path = "$rg?api-version=2022-09-01"
wrk.headers["Authorization"] = "Bearer $arm"
$done_lua
LUA
  cat >"$work/write.lua" <<LUA
local n = 0
math.randomseed(os.time())
local tag = math.random(1, 1e9)
request = function()
  n = n + 1
  return wrk.format("PUT", "$rg/providers/Microsoft.Web/sites/w" .. tag .. "-" .. n .. "?api-version=2022-03-01",
    {["Authorization"] = "Bearer $arm", ["Content-Type"] = "application/json"}, '{"location":"westeurope","tags":{"load":"1"}}')
end
$done_lua
LUA
  cat >"$work/token.lua" <<LUA
wrk.method = "POST"
wrk.path = "/$tenant/oauth2/v2.0/token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials&client_id=$app&client_secret=$secret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
$done_lua
LUA
  rows=$(python3 -c 'import json,datetime; t=datetime.datetime.now(datetime.timezone.utc).isoformat(); print(json.dumps([{"TimeGenerated":t,"Resource":"r%d"%i,"Value":i} for i in range(100)]))')
  cat >"$work/ingest.lua" <<LUA
wrk.method = "POST"
wrk.path = "/ingest/dataCollectionRules/$dcr/streams/Custom-Load?api-version=2023-01-01"
wrk.headers["Authorization"] = "Bearer $mon"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[$rows]==]
$done_lua
LUA
  cat >"$work/kql.lua" <<LUA
wrk.method = "POST"
wrk.path = "/v1/workspaces/$cust/query"
wrk.headers["Authorization"] = "Bearer $la"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query":"Load_CL | summarize count(), avg(Value) by Resource | top 10 by count_"}'
$done_lua
LUA
  # Each scenario answers 2xx once before it is loaded.
  smoke() { # method path token body
    local out code
    out=$(curl -sS --cacert "$cacert" -o "$work/smoke.body" -w '%{http_code}' -X "$1" "$base$2" \
      ${3:+-H "Authorization: Bearer $3"} -H "Content-Type: ${5:-application/json}" ${4:+--data-binary "$4"})
    code=$out
    if [[ $code != 2* ]]; then echo "smoke $1 $2: $code $(head -c 300 "$work/smoke.body")" >&2; exit 1; fi
  }
  smoke GET "$rg?api-version=2022-09-01" "$arm"
  smoke PUT "$rg/providers/Microsoft.Web/sites/smoke?api-version=2022-03-01" "$arm" '{"location":"westeurope"}'
  smoke POST "/$tenant/oauth2/v2.0/token" "" "grant_type=client_credentials&client_id=$app&client_secret=$secret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default" application/x-www-form-urlencoded
  smoke POST "/ingest/dataCollectionRules/$dcr/streams/Custom-Load?api-version=2023-01-01" "$mon" "$rows"
  smoke POST "/v1/workspaces/$cust/query" "$la" '{"query":"Load_CL | summarize count(), avg(Value) by Resource | top 10 by count_"}'
  for scenario in read write token ingest kql; do
    run_wrk "$mode" "$scenario" "$work/$scenario.lua"
  done
  vending_run "$mode"
  stop_all
done
