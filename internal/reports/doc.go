// Package reports runs Steward's governance reviews over an estate:
// network exposure (effective NSG evaluation: which ports each network
// interface accepts from the Internet, and rules that never match) and log
// collection (resources without diagnostic settings). Reports read
// resources as Azure shapes them (an exported estate, or ARM through the
// Azure SDK) and never Steward's internals.
package reports
