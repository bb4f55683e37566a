#!/usr/bin/env bash
# fetch-conformance.sh assembles, from public sources, the data directory the
# conformance suites and corpus tests read (../shared beside the checkout, or
# the directory given as $1). Parts already present are kept. Each part is fetched on its own: a part that
# cannot be fetched (no network, a moved upstream file) is reported and the
# others are still assembled, and its tests keep skipping with a message.
# See docs/contributing.md for what each part is and its licence.
set -uo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$repo_root/../shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
failed=()

say() { printf '%s\n' "$*" >&2; }

# clone REPO DIR [SPARSE PATHS...]: a shallow, blobless clone, sparse when
# paths are given.
clone() {
	local repo=$1 dir=$2
	shift 2
	if [ $# -gt 0 ]; then
		git clone -q --depth 1 --filter=blob:none --sparse "https://github.com/$repo.git" "$dir" &&
			git -C "$dir" sparse-checkout set "$@"
	else
		git clone -q --depth 1 "https://github.com/$repo.git" "$dir"
	fi
}

part() { say "== $1"; }
# present PATH: the part is there already; it is never overwritten.
present() {
	if [ -e "$dest/$1" ] && [ -n "$(ls -A "$dest/$1" 2>/dev/null)" ]; then
		say "   present, kept: $dest/$1"
		return 0
	fi
	return 1
}
fail() { say "   not fetched: $1"; failed+=("$1"); }

# Azure Policy evaluation cases (MIT, Microsoft): microsoft/regorus tests.
part "conformance/azure-policy  <- github.com/microsoft/regorus tests/azure_policy"
if present conformance/azure-policy/cases; then :
elif clone microsoft/regorus "$work/regorus" tests; then
	t="$dest/conformance/azure-policy"
	mkdir -p "$t/cases" "$t/aliases" "$t/normalization" "$t/parser" "$t/functions"
	src="$work/regorus/tests/azure_policy"
	cp "$src"/cases/*.yaml "$t/cases/" 2>/dev/null
	cp "$src"/aliases/*.json "$t/aliases/" 2>/dev/null
	cp "$src"/normalization/cases/*.yaml "$t/normalization/" 2>/dev/null
	cp "$src"/parser_tests/cases/*.yaml "$t/parser/" 2>/dev/null
	# Template-function cases name "builtin: azure.policy.fn.NAME".
	grep -rl --include='*.yaml' '^builtin: azure\.policy\.fn\.' "$work/regorus/tests" 2>/dev/null |
		while read -r f; do cp "$f" "$t/functions/"; done
	cp "$work/regorus/LICENSE" "$t/LICENSE" 2>/dev/null
	ls "$t"/cases/*.yaml >/dev/null 2>&1 || fail "conformance/azure-policy (no cases in the checkout)"
else
	fail "conformance/azure-policy"
fi

# Built-in policy definitions and initiatives (MIT, Microsoft): Azure/azure-policy.
part "corpus/azure-policy  <- github.com/Azure/azure-policy built-in-policies"
if present corpus/azure-policy/built-in-policies; then :
elif clone Azure/azure-policy "$work/azure-policy" built-in-policies; then
	mkdir -p "$dest/corpus/azure-policy"
	cp -R "$work/azure-policy/built-in-policies" "$dest/corpus/azure-policy/"
	cp "$work/azure-policy/LICENSE" "$dest/corpus/azure-policy/LICENSE" 2>/dev/null
else
	fail "corpus/azure-policy"
fi

# Policy aliases, alias,path CSV gzipped (MIT, Janne Mattila).
part "corpus/aliases  <- github.com/JanneMattila/azure-policy-evaluator src/AzurePolicyEvaluator/Resources/policy-aliases.gz"
if present corpus/aliases/policy-aliases.csv.gz; then :
elif clone JanneMattila/azure-policy-evaluator "$work/ape" src/AzurePolicyEvaluator/Resources &&
	[ -f "$work/ape/src/AzurePolicyEvaluator/Resources/policy-aliases.gz" ]; then
	mkdir -p "$dest/corpus/aliases"
	cp "$work/ape/src/AzurePolicyEvaluator/Resources/policy-aliases.gz" "$dest/corpus/aliases/policy-aliases.csv.gz"
	cp "$work/ape/LICENSE" "$dest/corpus/aliases/LICENSE" 2>/dev/null
else
	fail "corpus/aliases"
fi

# REST API examples and specs (MIT, Microsoft): Azure/azure-rest-api-specs.
part "corpus/rest-api  <- github.com/Azure/azure-rest-api-specs (newest, not the pinned commits)"
specs=(specification/resources specification/authorization specification/policyinsights
	specification/keyvault specification/operationalinsights specification/monitor
	specification/solutions specification/managementgroups specification/subscription)
if present corpus/rest-api/specification; then :
elif clone Azure/azure-rest-api-specs "$work/specs" "${specs[@]}"; then
	mkdir -p "$dest/corpus/rest-api"
	for s in "${specs[@]}"; do
		[ -d "$work/specs/$s" ] && mkdir -p "$dest/corpus/rest-api/$(dirname "$s")" && cp -R "$work/specs/$s" "$dest/corpus/rest-api/$s"
	done
else
	fail "corpus/rest-api"
fi

# Built-in role definitions: what ARM's role-definitions API returns. There is
# no release file; with a signed-in az, list them.
part "corpus/roles  <- az role definition list (needs a signed-in Azure CLI)"
if present corpus/roles/builtin-role-definitions.json; then :
elif command -v az >/dev/null && az account show >/dev/null 2>&1; then
	mkdir -p "$dest/corpus/roles"
	az role definition list --custom-role-only false --query "[?roleType=='BuiltInRole']" -o json \
		>"$dest/corpus/roles/builtin-role-definitions.json" || fail "corpus/roles"
else
	fail "corpus/roles (sign in with az login, then run this script again)"
fi

# KQL cases with the results of the real Kusto engine: no public release is
# known to the project; the suite skips without it.
part "conformance/kql/cases.jsonl"
[ -f "$dest/conformance/kql/cases.jsonl" ] || fail "conformance/kql (no public source; see docs/contributing.md)"

say ""
say "assembled in $dest"
if [ ${#failed[@]} -gt 0 ]; then
	say "not fetched (their tests keep skipping):"
	for f in "${failed[@]}"; do say "  - $f"; done
	exit 1
fi
