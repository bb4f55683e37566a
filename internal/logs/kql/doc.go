// Package kql is Steward's Kusto Query Language engine: a lexer and parser
// producing an AST with positions, a planner that lowers a query onto a
// Source (a table store that can accept pushed-down filters, projections and
// limits), and a streaming executor with Kusto's types, null rules and
// default column names.
//
// The entry points are Parse (text to AST), Compile (AST to a Plan against a
// Source) and Run (parse, compile and drain into a Result). Values are typed
// (Value, Type); results render in Kusto's text form (Value.Text) and in the
// Log Analytics query API's JSON shape (Result.QueryResponse).
package kql
