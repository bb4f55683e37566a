package kql

import (
	"math"
	"testing"
)

func TestRealsRenderLikeDotNetRoundTrip(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{15, "15"}, {2.5, "2.5"}, {0.0001, "0.0001"}, {1e-5, "1E-05"}, {5e-324, "5E-324"},
		{15000000000, "15000000000"}, {1e15, "1E+15"}, {9.223372036854776e18, "9.223372036854776E+18"},
		{-3.0744573456182584e18, "-3.0744573456182584E+18"}, {math.NaN(), "NaN"}, {math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"}, {math.Copysign(0, -1), "-0"},
	}
	for _, tt := range tests {
		if got := Real(tt.in).Text(); got != tt.want {
			t.Errorf("Real(%v).Text() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTimeValuesRenderAndParse(t *testing.T) {
	spans := []struct {
		text string
		want string
	}{
		{"1d", "1.00:00:00"}, {"1.5h", "01:30:00"}, {"1tick", "00:00:00.0000001"}, {"-1d", "-1.00:00:00"},
		{"2.01:02:03.5", "2.01:02:03.5000000"}, {"00:10", "00:10:00"}, {"90s", "00:01:30"},
	}
	for _, tt := range spans {
		ticks, ok := parseTimeSpan(tt.text)
		if !ok {
			t.Errorf("parseTimeSpan(%q) failed", tt.text)
			continue
		}
		if got := TimeSpan(ticks).Text(); got != tt.want {
			t.Errorf("timespan %q renders %q, want %q", tt.text, got, tt.want)
		}
	}
	dates := []struct {
		text string
		want string
	}{
		{"2020-01-01", "2020-01-01T00:00:00.0000000Z"},
		{"2017-10-31 01:00", "2017-10-31T01:00:00.0000000Z"},
		{"2020-06-15T13:45:09.1234567Z", "2020-06-15T13:45:09.1234567Z"},
		{"2020-06-15T13:45:09+02:00", "2020-06-15T11:45:09.0000000Z"},
		{"0001-01-01 00:00:00.0000001", "0001-01-01T00:00:00.0000001Z"},
		{"9999-12-31 23:59:59.9999999", "9999-12-31T23:59:59.9999999Z"},
	}
	for _, tt := range dates {
		ticks, ok := parseDateTime(tt.text)
		if !ok {
			t.Errorf("parseDateTime(%q) failed", tt.text)
			continue
		}
		if got := DateTime(ticks).Text(); got != tt.want {
			t.Errorf("datetime %q renders %q, want %q", tt.text, got, tt.want)
		}
	}
	for _, bad := range []string{"2020-13-01", "2020-02-30", "not a date", "2020-01-01 25:00"} {
		if _, ok := parseDateTime(bad); ok {
			t.Errorf("parseDateTime(%q) succeeded, want failure", bad)
		}
	}
}

func TestHasMatchesWholeTerms(t *testing.T) {
	tests := []struct {
		s, term string
		want    bool
	}{
		{"hello-world", "hello", true}, {"helloworld", "hello", false}, {"alpha_beta", "alpha", true},
		{"foo.bar.baz", "bar", true}, {"naïve approach", "naïve", true}, {"error in module", "in module", true},
		{"printing", "in", false}, {"", "", true},
	}
	for _, tt := range tests {
		if got := hasTerm(tt.s, tt.term); got != tt.want {
			t.Errorf("hasTerm(%q, %q) = %v, want %v", tt.s, tt.term, got, tt.want)
		}
	}
}

func TestDynamicRendersAsIndentedJSONInKeyOrder(t *testing.T) {
	d, err := ParseJSON(`{"name":"alice","age":30,"tags":["a",1.0,null],"empty":{}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"name\": \"alice\",\n  \"age\": 30,\n  \"tags\": [\n    \"a\",\n    1.0,\n    null\n  ],\n  \"empty\": {}\n}"
	if got := Dynamic(d).Text(); got != want {
		t.Errorf("Text() =\n%s\nwant\n%s", got, want)
	}
	if got, want := Dynamic(d).Plain(), `{"name":"alice","age":30,"tags":["a",1.0,null],"empty":{}}`; got != want {
		t.Errorf("Plain() = %s, want %s", got, want)
	}
}
