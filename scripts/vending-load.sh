#!/usr/bin/env bash
# Load run of the vending service with wrk against a `steward serve` on
# loopback: the discovery calls and group creation, on SQLite or
# PostgreSQL. Not part of CI (it takes minutes and needs wrk):
#
#   apt-get install -y wrk
#   scripts/vending-load.sh sqlite
#   scripts/vending-load.sh postgres://postgres@127.0.0.1:5432/test
#
# With a PostgreSQL URL, a fresh database (h19vending_<pid>) is created
# next to the one named and dropped afterwards. DURATION (default 20s),
# CONNECTIONS (default 8) and PORT (default 18543) tune the run.
set -euo pipefail

store=${1:-sqlite}
duration=${DURATION:-20s}
conns=${CONNECTIONS:-8}
port=${PORT:-18543}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
work=$(mktemp -d)
bin=$work/steward
data=$work/data
(cd "$root" && go build -o "$bin" ./cmd/steward)

storeflag=()
db=""
if [[ $store == postgres* ]]; then
  db=h19vending_$$
  psql "$store" -qc "CREATE DATABASE $db"
  storeflag=(--store "${store%/*}/$db")
fi

export STEWARD_ROOT_KEY_FILE=$work/root.key
"$bin" serve --data "$data" --listen "127.0.0.1:$port" --proxy '' "${storeflag[@]}" >"$work/serve.log" 2>&1 &
serve=$!
cleanup() {
  kill "$serve" 2>/dev/null || true
  wait "$serve" 2>/dev/null || true
  if [[ -n $db ]]; then psql "$store" -qc "DROP DATABASE IF EXISTS $db" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  [[ -f $data/bootstrap.json ]] && "$bin" token --data "$data" >/dev/null 2>&1 && break
  sleep 1
done

st() { "$bin" "$@" --data "$data"; }
json() { python3 -c "import json,sys; print(json.load(open('$data/bootstrap.json'))['$1'])"; }
tenant=$(json tenantId)
sub=$(json subscriptionId)
app=$(json clientId)
oid=$(json objectId)

# The execution context, the catalog and the administrator's authorization
# (vending_setup, bench/lib.sh); vtok is a token for the vending API.
vending_setup
token=$vtok
base=https://127.0.0.1:$port

echo "== $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg); store: ${store%%:*}"
echo "== discovery: GET /vending/v1/subscriptions/{id}/costCenters ($duration, $conns connections)"
wrk -t2 -c"$conns" -d"$duration" --latency -H "Authorization: Bearer $token" \
  "$base/vending/v1/subscriptions/$sub/costCenters" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|requests in|Socket errors'

# One request first, so a setup mistake shows as an error, not as a rate.
curl -sk --fail-with-body -X POST -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
  -d "{\"subscriptionId\":\"$sub\",\"name\":\"first\",\"environment\":\"dev\",\"costCenter\":\"cc1\",\"region\":\"westeurope\",\"tags\":{\"Owner\":\"load\"}}" \
  "$base/vending/v1/resourceGroups" >/dev/null
echo "== group creation: POST /vending/v1/resourceGroups ($duration, $conns connections)"
start=$(date +%s.%N)
SUB=$sub wrk -t2 -c"$conns" -d"$duration" --latency -H "Authorization: Bearer $token" -s "$root/bench/vending.lua" \
  "$base/vending/v1/resourceGroups" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|requests in|refused|Socket errors'
# Every accepted request is carried out in the background: wait until none
# is InProgress and count the groups made.
while st rg list -o json | python3 -c "import json,sys; sys.exit(0 if any(r['status']=='InProgress' for r in json.load(sys.stdin)) else 1)"; do
  sleep 1
done
end=$(date +%s.%N)
st rg list -o json | python3 -c "
import json,sys
recs=json.load(sys.stdin)
ok=sum(r['status']=='Succeeded' for r in recs); bad=len(recs)-ok
print(f'groups created: {ok} (failed: {bad}) in {$end-$start:.1f}s from the first request to the last group: {ok/($end-$start):.1f} groups/s')
why={}
for r in recs:
    if r['status']!='Succeeded':
        m=(r.get('error') or {}).get('message','')
        why.setdefault(m[:160],0); why[m[:160]]+=1
for m,n in sorted(why.items(), key=lambda x:-x[1])[:5]: print(f'  failed x{n}: {m}')"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
