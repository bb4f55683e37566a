#!/usr/bin/env bash
# fetch-seed-code.sh places seed 000's published code (the Azure Functions
# NotificationHandler and PolicyStates of Azure/azure-marketplace-management-extras,
# at the commit the research notes read) where TestSeed000PythonFunctionsUnmodified
# looks for it: ../shared/marketplace-extras beside the checkout, or the directory given as $1
# (then run the test with STEWARD_SEED000_DIR set to it). The code is not
# Steward's and is never committed here; the test runs it unmodified.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$repo_root/../shared/marketplace-extras}
commit=43f4067
if [ -f "$dest/applications/PolicyStates/__init__.py" ]; then
	echo "present, kept: $dest/applications" >&2
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --filter=blob:none --no-checkout https://github.com/Azure/azure-marketplace-management-extras.git "$work/repo"
git -C "$work/repo" archive "$commit" applications | { mkdir -p "$dest" && tar -x -C "$dest"; }
echo "seed 000's code at $dest/applications (commit $commit)" >&2
echo "Python needs: python3-azure python3-aiohttp (Debian)" >&2
