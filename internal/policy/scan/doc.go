// Package scan answers "what would these policies say about my estate?"
// offline: it streams an exported estate (the JSON of az resource list, of
// Azure Resource Graph queries, or JSON Lines), evaluates every applicable
// resource x assignment x definition with the policy engine, and reports
// the compliance summary Azure would show, the non-compliant resources
// with the evaluated expressions behind them, and what deny, modify and
// append would do to each resource on its next write.
//
// Input is read one record at a time and evaluated by a bounded pool of
// workers, so memory does not grow with the estate: the summary is kept
// as per-definition counters and non-compliant results are streamed to
// the output as they are found. auditIfNotExists and deployIfNotExists
// look for related resources in the estate itself; a first pass indexes
// only the resource types those policies ask about, plus resource groups
// and subscriptions. The rules followed where Azure is undocumented are in
// docs/decisions/scan.md.
package scan
