// Package archtest holds tests that keep Steward's structure honest: the
// one-way import graph of DESIGN.md and a doc comment on every package.
package archtest
