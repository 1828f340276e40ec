// Package archtest holds the test that enforces docs/design.md's dependency rule,
// so it holds without anyone remembering it. It has no code of its own.
package archtest
