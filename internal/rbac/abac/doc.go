// Package abac parses and evaluates Azure role-assignment conditions
// (attribute-based access control, conditionVersion 2.0): the language of
// ActionMatches, SubOperationMatches, Exists, @Request/@Resource/@Principal/
// @Environment attributes, the String, Numeric, DateTime, Guid and Bool
// comparison families with their ForAnyOfAnyValues-style cross-product forms,
// and AND/OR/NOT (also spelled &&, || and !).
//
// Parse turns a condition into an AST whose nodes carry byte offsets and
// whose String method prints text that parses back to the same tree. Parsing
// is size- and depth-capped and recovers internal panics into a *SyntaxError
// at one point, so untrusted input never crashes the caller. Eval decides a
// parsed condition against an Env holding the action being performed and the
// attribute values of the request.
package abac
