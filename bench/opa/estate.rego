# The logic of bench/opa/definitions/*.json in Rego (OPA v1 syntax), for
# bench/opa-compare.sh. input is the estate: the JSON array that
# bench/estategen writes (az resource list). Azure Policy compares strings
# case-insensitively, so both sides are lower-cased here.
package steward.scan

allowed_locations := {"westeurope", "northeurope", "global"}

violations contains {"id": r.id, "policy": "nsg-ssh-open"} if {
	some r in input
	lower(r.type) == "microsoft.network/networksecuritygroups"
	some rule in r.properties.securityRules
	lower(rule.properties.access) == "allow"
	lower(rule.properties.direction) == "inbound"
	lower(rule.properties.destinationPortRange) in {"22", "*"}
	lower(rule.properties.sourceAddressPrefix) in {"*", "internet", "0.0.0.0/0"}
}

violations contains {"id": r.id, "policy": "storage-secure-transfer"} if {
	some r in input
	lower(r.type) == "microsoft.storage/storageaccounts"
	insecure_storage(r)
}

insecure_storage(r) if r.properties.supportsHttpsTrafficOnly == false

insecure_storage(r) if not lower(r.properties.minimumTlsVersion) == "tls1_2"

violations contains {"id": r.id, "policy": "owner-service-principal"} if {
	some r in input
	lower(r.type) == "microsoft.authorization/roleassignments"
	endswith(lower(r.properties.roleDefinitionId), "/8e3af657-a8ff-443d-a75c-2fe8c4bcb635")
	lower(r.properties.principalType) == "serviceprincipal"
}

violations contains {"id": r.id, "policy": "allowed-locations"} if {
	some r in input
	loc := r.location
	not lower(loc) in allowed_locations
}

violations contains {"id": r.id, "policy": "require-cost-center"} if {
	some r in input
	r.location
	not has_cost_center(r)
}

has_cost_center(r) if {
	some k, _ in r.tags
	lower(k) == "costcenter"
}

# counts: non-compliant resources per definition, and in all.
policies := {v.policy | some v in violations}

counts[p] := count({v | some v in violations; v.policy == p}) if some p in policies

total := count(violations)
