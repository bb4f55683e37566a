#!/usr/bin/env bash
# fetch-seed-code.sh places the seeds' published code where the tests that
# run it unmodified look for it, beside the checkout in ../shared:
#
#   seed 000: the Azure Functions NotificationHandler and PolicyStates of
#     Azure/azure-marketplace-management-extras (commit 43f4067) at
#     ../shared/marketplace-extras, for TestSeed000PythonFunctionsUnmodified
#     (another directory: STEWARD_SEED000_DIR);
#   seed 002: mattfeltonma/python-b2c-sample (commit 8a15984), the Flask B2C
#     web app and API, at ../shared/python-b2c-sample, for
#     TestSeed002B2CSampleUnmodified (another directory: STEWARD_SEED002_DIR).
#
# Usage: fetch-seed-code.sh [000|002|all] [DEST]  (default: all, at the
# default places; DEST only with one seed; a lone DEST is seed 000's, as
# before seed 002 was added). The code is not Steward's and
# is never committed here; the tests run it unmodified.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
which=${1:-all}

# fetch REPO COMMIT DEST PATH...: the paths of REPO at COMMIT under DEST.
fetch() {
	local repo=$1 commit=$2 dest=$3
	shift 3
	local work
	work=$(mktemp -d)
	git clone -q --filter=blob:none --no-checkout "https://github.com/$repo.git" "$work/repo"
	git -C "$work/repo" archive "$commit" "$@" | { mkdir -p "$dest" && tar -x -C "$dest"; }
	rm -rf "$work"
}

seed000() {
	local dest=${1:-$repo_root/../shared/marketplace-extras}
	if [ -f "$dest/applications/PolicyStates/__init__.py" ]; then
		echo "present, kept: $dest/applications" >&2
		return
	fi
	fetch Azure/azure-marketplace-management-extras 43f4067 "$dest" applications
	echo "seed 000's code at $dest/applications (commit 43f4067)" >&2
	echo "Python needs: python3-azure python3-aiohttp (Debian)" >&2
}

seed002() {
	local dest=${1:-$repo_root/../shared/python-b2c-sample}
	if [ -f "$dest/python-b2c-web/app.py" ]; then
		echo "present, kept: $dest" >&2
		return
	fi
	fetch mattfeltonma/python-b2c-sample 8a15984 "$dest" .
	echo "seed 002's sample at $dest (commit 8a15984)" >&2
	echo "Python needs: python3-flask python3-flask-cors python3-flask-session python3-flaskext.wtf python3-msal python3-jose python3-requests python3-six (Debian)" >&2
}

case $which in
000) seed000 "${2:-}" ;;
002) seed002 "${2:-}" ;;
all)
	seed000
	seed002
	;;
-*)
	echo "usage: $0 [000|002|all] [DEST]" >&2
	exit 2
	;;
*) seed000 "$which" ;; # the older form: fetch-seed-code.sh DEST (seed 000)
esac
