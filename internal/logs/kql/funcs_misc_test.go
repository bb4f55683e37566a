package kql

import (
	"strings"
	"testing"
)

// TestMoreScalarFunctions checks the functions against the values of the
// Kusto reference's examples where it gives them (the page is named).
func TestMoreScalarFunctions(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		// ipv4-compare-function, parse-ipv4-mask-function, format-ipv4-function
		{"ipv4_compare('127.0.0.1', '127.0.0.1')", "0"},
		{"ipv4_compare('192.168.1.1', '192.168.1.255')", "-1"},
		{"ipv4_compare('192.168.1.1/24', '192.168.1.255/24')", "0"},
		{"ipv4_compare('192.168.1.1', '192.168.1.255', 24)", "0"},
		{"ipv4_compare('192.168.1.1', 'nope')", "null"},
		{"parse_ipv4_mask('127.0.0.1', 24)", "2130706432"},
		{"parse_ipv4_mask('192.168.1.2', 24)", "3232235776"},
		{"parse_ipv4('127.0.0.1')", "2130706433"},
		{"format_ipv4('192.168.1.255', 24)", "'192.168.1.0'"},
		{"format_ipv4(3232236031, 24)", "'192.168.1.0'"},
		{"format_ipv4_mask('192.168.1.1/24', 32)", "'192.168.1.0/24'"},
		{"format_ipv4('192.168.1.1', -1)", "''"},
		{"ipv4_is_in_range('10.1.2.3', '10.0.0.0/8')", "True"},
		{"ipv4_is_in_range('11.1.2.3', '10.0.0.0/8')", "False"},
		{"ipv4_is_in_any_range('192.168.1.7', '10.0.0.0/8', '192.168.1.0/24')", "True"},
		{"ipv4_is_in_any_range('192.168.2.7', dynamic(['10.0.0.0/8', '192.168.1.0/24']))", "False"},
		{"ipv4_is_private('172.16.5.1')", "True"},
		{"ipv4_is_private('172.32.5.1')", "False"},
		{"ipv4_is_match('192.168.1.1/24', '192.168.1.255')", "True"},
		{"ipv4_netmask_suffix('10.0.0.0/8')", "8"},
		{"ipv4_netmask_suffix('10.0.0.1')", "32"},
		// parse-ipv6-mask-function
		{"parse_ipv6_mask('127.0.0.1', 24)", "'0000:0000:0000:0000:0000:ffff:7f00:0000'"},
		{"parse_ipv6('fe80::85d:e82c:9446:7994')", "'fe80:0000:0000:0000:085d:e82c:9446:7994'"},
		{"ipv6_compare('fe80::85d:e82c:9446:7994', 'fe80::85d:e82c:9446:7995', 120)", "0"},
		{"ipv6_is_in_range('2001:db8::1', '2001:db8::/32')", "True"},
		// format-bytes-function
		{"format_bytes(564)", "'564 Bytes'"},
		{"format_bytes(10332)", "'10 KB'"},
		{"format_bytes(20010332)", "'19 MB'"},
		{"format_bytes(20010332, 2)", "'19.08 MB'"},
		{"format_bytes(20010332, 0, 'KB')", "'19541 KB'"},
		// hash-function
		{"hash('World')", "1846988464401551951"},
		{"hash('World', 100)", "51"},
		// a datetime hashes its ticks (the page writes datetime("2015-01-01"))
		{"hash(datetime(2015-01-01))", "1380966698541616202"},
		{"hash_xxhash64(datetime(2015-01-01))", "1380966698541616202"},
		{"hash('Hello')", "753694413698530628"},
		// hash-md5-function, hash-sha1-function: "World"
		{"hash_md5('World')", "'f5a7924e621e84c9280a9a27e1bcb7f6'"},
		{"hash_sha1('World')", "'70c07ec18ef89c5309bbb0937f3a6342411e1fdd'"},
		{"tohex(256)", "'100'"},
		{"tohex(-546)", "'fffffffffffffdde'"},
		{"tohex(toint(-546))", "'fffffdde'"},
		{"tohex(48879, 8)", "'0000beef'"},
		{"isascii('abc')", "True"},
		{"isascii('été')", "False"},
		{"indexof_regex('abcabc', 'a.c', 0, -1, 2)", "3"},
		{"indexof_regex('abc', 'x')", "-1"},
		{"regex_quote('a.b')", "'a\\.b'"},
		{"translate('abc', 'x', 'abc')", "'xxx'"},
		{"translate('abc', '', 'ab')", "''"},
		{"translate('a', 'b', 'banana')", "'bbnbnb'"},
		{"make_string(75, 117, 115, 116, 111)", "'Kusto'"},
		{"unicode_codepoints_to_string(dynamic([75, 117]))", "'Ku'"},
		{"binary_and(6, 3)", "2"},
		{"binary_or(6, 3)", "7"},
		{"binary_xor(6, 3)", "5"},
		{"binary_not(0)", "-1"},
		{"binary_shift_left(1, 4)", "16"},
		{"bitset_count_ones(42)", "3"},
		{"series_sum(dynamic([1, 2, null, 4]))", "7"},
		// dynamic literals with single-quoted strings, as Sentinel queries write them
		{"array_length(dynamic(['a', \"b\", 'c\\'d']))", "3"},
		{"tostring(dynamic({'k': 'v'}).k)", "'v'"},
		{"series_magnitude(dynamic([3, 4]))", "5"},
		{"series_dot_product(dynamic([1, 2]), dynamic([3, 4]))", "11"},
		{"series_cosine_similarity(dynamic([1, 0]), dynamic([0, 1]))", "0"},
		// extract-json-function
		{"extract_json('$.hosts[1].AvailableMB', '{\"hosts\": [{\"AvailableMB\": 5}, {\"AvailableMB\": 12}]}', typeof(int))", "12"},
		{"extractjson('$.a', '{\"a\": \"x\"}')", "'x'"},
		{"extract_json('$.missing', '{\"a\": 1}')", "''"},
		{"datetime_utc_to_local(datetime(2022-11-07 09:00:00), 'Europe/Paris')", "2022-11-07T10:00:00.0000000Z"},
		{"datetime_utc_to_local(datetime(2022-07-07 09:00:00), 'Europe/Paris')", "2022-07-07T11:00:00.0000000Z"},
		{"datetime_local_to_utc(datetime(2022-07-07 11:00:00), 'Europe/Paris')", "2022-07-07T09:00:00.0000000Z"},
		{"datetime_utc_to_local(datetime(2022-07-07 09:00:00), 'Nowhere/Else')", "null"},
	} {
		res := runQuery(t, "print r="+tc.expr)
		if got := res.Rows[0][0].Text(); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

func TestParseURLAndPath(t *testing.T) {
	res := runQuery(t, `print u=parse_url('scheme://username:password@host:1234/this/is/a/path?k1=v1&k2=v2#fragment')`)
	got := strings.Join(strings.Fields(res.Rows[0][0].Text()), "")
	for _, want := range []string{`"Scheme":"scheme"`, `"Host":"host"`, `"Port":"1234"`, `"Path":"/this/is/a/path"`, `"Username":"username"`, `"Password":"password"`, `"QueryParameters":{"k1":"v1","k2":"v2"}`, `"Fragment":"fragment"`} {
		if !strings.Contains(strings.ReplaceAll(got, "Query Parameters", "QueryParameters"), want) {
			t.Errorf("parse_url: %s lacks %s", got, want)
		}
	}
	// parse-path-function's example, row by row
	for path, want := range map[string][]string{
		`C:\temp\file.txt`:                 {`"RootPath":"C:"`, `"DirectoryPath":"C:\\temp"`, `"DirectoryName":"temp"`, `"Filename":"file.txt"`, `"Extension":"txt"`},
		`temp\file.txt`:                    {`"RootPath":""`, `"DirectoryPath":"temp"`, `"Filename":"file.txt"`},
		"file://C:/temp/file.txt:some.exe": {`"Scheme":"file"`, `"RootPath":"C:"`, `"DirectoryPath":"C:/temp"`, `"Filename":"file.txt"`, `"AlternateDataStreamName":"some.exe"`},
		`\\shared\users\temp\file.txt.gz`:  {`"RootPath":""`, `"DirectoryPath":"\\\\shared\\users\\temp"`, `"DirectoryName":"temp"`, `"Extension":"gz"`},
		"/usr/lib/temp/file.txt":           {`"RootPath":""`, `"DirectoryPath":"/usr/lib/temp"`, `"DirectoryName":"temp"`},
	} {
		res := runQuery(t, "print p=parse_path(@'"+path+"')")
		got := strings.Join(strings.Fields(res.Rows[0][0].Text()), "")
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("parse_path(%s) = %s, lacks %s", path, got, w)
			}
		}
	}
}
