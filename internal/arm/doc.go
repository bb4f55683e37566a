// Package arm holds the Azure Resource Manager vocabulary that every other
// Steward package shares: resource IDs and scopes (parse, format, ancestry),
// the ARM error envelope and its mapping to HTTP, and api-version ordering.
//
// It is a leaf package: it imports nothing else from Steward.
package arm
