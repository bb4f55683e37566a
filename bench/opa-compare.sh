#!/usr/bin/env bash
# Compares `steward policy scan` with OPA evaluating the same logic in Rego
# over a generated `az resource list` estate (issue 20).
#
#   bench/opa-compare.sh                 # 100,000 resources, 5 runs each
#   N=20000 RUNS=3 bench/opa-compare.sh  # smaller
#
# It installs OPA v1.22.2 with `go install` into a temporary GOBIN (from the
# Go module proxy; never committed or vendored; set OPA_GOBIN to a folder to
# keep it between runs), builds steward, generates the estate
# (bench/estategen, seed 20), then runs the two ALTERNATING (steward first on
# odd runs, OPA first on even ones), each under /usr/bin/time -v, and prints
# every run, the medians of wall time, CPU seconds (user + sys) and max RSS,
# and the steward/OPA ratios. Steward runs the table output with the five
# definitions of bench/opa/definitions; OPA runs `opa eval` of
# bench/opa/estate.rego with the estate as input. The script fails unless
# both find the same number of non-compliant resources per definition.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
RUNS=${RUNS:-5}
SEED=${SEED:-20}
OPA_VERSION=v1.22.2

for tool in go python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "opa-compare: $tool is required" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gobin=${OPA_GOBIN:-$work/gobin}
mkdir -p "$gobin"
gobin=$(cd "$gobin" && pwd)

# (the version is read whole: grep -q closing the pipe early would fail it
# under pipefail)
have=$("$gobin/opa" version 2>/dev/null || true)
if ! grep -q "^Version: ${OPA_VERSION#v}$" <<<"$have"; then
  echo "== installing OPA $OPA_VERSION into $gobin"
  (cd "$work" && GOBIN="$gobin" go install "github.com/open-policy-agent/opa@$OPA_VERSION")
fi
opa="$gobin/opa"
"$opa" version | sed -n 1p  # (sed reads it all: head would close the pipe early and fail it)

echo "== building steward"
go build -o "$work/steward" ./cmd/steward

echo "== generating $N resources (seed $SEED)"
go run ./bench/estategen -n "$N" -seed "$SEED" > "$work/estate.json"
ls -l "$work/estate.json" | awk '{printf "estate: %.1f MB\n", $5/1e6}'

steward_cmd=("$work/steward" policy scan "$work/estate.json" --policy bench/opa/definitions --fail-on none)
opa_cmd=("$opa" eval --format json --data bench/opa/estate.rego --input "$work/estate.json" 'data.steward.scan.counts')

# run TOOL I: one timed run, its output in $work/TOOL.I.out, its figures
# appended to $work/runs (tool run wall cpu rss_kb load1).
run() {
  local tool=$1 i=$2 cmd
  if [ "$tool" = steward ]; then cmd=("${steward_cmd[@]}"); else cmd=("${opa_cmd[@]}"); fi
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -v -o "$work/$tool.$i.time" "${cmd[@]}" > "$work/$tool.$i.out" 2> "$work/$tool.$i.err" || {
    echo "opa-compare: $tool failed:" >&2; cat "$work/$tool.$i.err" >&2; exit 1; }
  python3 - "$work/$tool.$i.time" "$tool" "$i" "$load" >> "$work/runs" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
def field(name):
    return re.search(re.escape(name) + r": (.*)", text).group(1).strip()
wall = 0.0
for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
    wall = wall * 60 + float(part)
cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
print(sys.argv[2], sys.argv[3], f"{wall:.2f}", f"{cpu:.2f}", field("Maximum resident set size (kbytes)"), sys.argv[4])
EOF
}

echo "== $RUNS runs each, alternating"
: > "$work/runs"
for i in $(seq 1 "$RUNS"); do
  if [ $((i % 2)) -eq 1 ]; then run steward "$i"; run opa "$i"; else run opa "$i"; run steward "$i"; fi
done

# the counts must agree: steward's POLICY table against OPA's counts
python3 - "$work" "$RUNS" <<'EOF'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])

def steward_counts(path):
    counts, section = {}, False
    for line in open(path):
        cells = line.split()
        if cells[:1] == ["POLICY"]:
            section = True
            continue
        if section:
            if not cells:
                break
            counts[cells[0]] = int(cells[3])  # NON-COMPLIANT
    return counts

def opa_counts(path):
    doc = json.load(open(path))
    return doc["result"][0]["expressions"][0]["value"]

ok = True
for i in range(1, runs + 1):
    s, o = steward_counts(f"{work}/steward.{i}.out"), opa_counts(f"{work}/opa.{i}.out")
    s = {k: v for k, v in s.items() if v}
    if s != o:
        ok = False
        print(f"run {i}: the counts differ: steward {s}, opa {o}")
if ok:
    print("non-compliant resources per definition (steward = OPA):")
    for k, v in sorted(s.items()):
        print(f"  {k:28} {v}")
    print(f"  {'total':28} {sum(s.values())}")

rows = [l.split() for l in open(f"{work}/runs")]
print()
print(f"{'tool':8} {'run':>3} {'wall s':>8} {'cpu s':>8} {'max RSS MiB':>12} {'load1':>6}")
for tool, i, wall, cpu, rss, load in rows:
    print(f"{tool:8} {i:>3} {float(wall):8.2f} {float(cpu):8.2f} {int(rss)/1024:12.1f} {load:>6}")
med = {}
for tool in ("steward", "opa"):
    r = [x for x in rows if x[0] == tool]
    med[tool] = [statistics.median(float(x[k]) for x in r) for k in (2, 3, 4)]
print()
print(f"{'median':8}     {'wall s':>8} {'cpu s':>8} {'max RSS MiB':>12}")
for tool in ("steward", "opa"):
    w, c, m = med[tool]
    print(f"{tool:8}     {w:8.2f} {c:8.2f} {m/1024:12.1f}")
s, o = med["steward"], med["opa"]
print(f"{'ratio':8}     {s[0]/o[0]:8.3f} {s[1]/o[1]:8.3f} {s[2]/o[2]:12.3f}   (steward / OPA)")
sys.exit(0 if ok else 1)
EOF
