package kql

import "testing"

// TestPunycode: the reference pages' examples and RFC 3492's sample
// strings, both ways.
func TestPunycode(t *testing.T) {
	for plain, code := range map[string]string{
		"académie-française": "acadmie-franaise-npb1a", // punycode-from-string-function
		"艺术":                 "cqv902d",
		"bücher":             "bcher-kva",
		"他们为什么不说中文":          "ihqwcrb4cv8a8dqg056pqjye", // RFC 3492 7.1 (B)
		"abc":                "abc-",
		"":                   "",
	} {
		checkFirstCell(t, "print r = punycode_from_string('"+plain+"')", code)
		checkFirstCell(t, "print r = punycode_to_string('"+code+"')", plain)
	}
	checkFirstCell(t, "print r = punycode_to_string('abc-!!')", "")
	checkFirstCell(t, "print r = punycode_to_string('bcher-kva9999999999')", "")
}

func TestPunycodeLongInputFails(t *testing.T) {
	checkFirstCell(t, "print r = punycode_from_string(strrep('é', 5000))", "")
	checkFirstCell(t, "print r = punycode_to_string(punycode_from_string(strrep('éa', 1000))) == strrep('éa', 1000)", "True")
}
