package kql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestAddedFunctionsNeverCrash calls each function added for the
// reference's geospatial, version, user-agent and text families with edge
// values in every argument position (nulls of each type, empty and odd
// strings, empty or wrong-shaped dynamic values, out-of-range numbers)
// and requires a result or a query error, never a recovered panic.
func TestAddedFunctionsNeverCrash(t *testing.T) {
	edge := []string{"real(null)", "long(null)", "int(null)", "dynamic(null)", `""`, `"a"`, "real(nan)", "real(-inf)",
		"-1", "0", "99999999999", "dynamic([])", "dynamic({})", `dynamic({"type":"Polygon"})`,
		`dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[0,1],[0,0]],[[5,5]]]})`,
		`dynamic({"type":"MultiLineString","coordinates":[[[0,0]],"x"]})`, `dynamic([1,"a",null])`,
		"datetime(null)", "true", `dynamic(["browser","x"])`, `"$."`, `"$.a..b"`}
	fns := map[string]int{
		"geo_distance_2points": 4, "geo_point_in_circle": 5, "geo_point_in_polygon": 3, "geo_distance_point_to_line": 3,
		"geo_point_to_geohash": 3, "geo_geohash_to_central_point": 1, "geo_geohash_to_polygon": 1,
		"geo_point_to_s2cell": 3, "geo_s2cell_to_central_point": 1, "geo_s2cell_to_polygon": 1, "geo_polygon_to_s2cells": 2,
		"parse_version": 1, "parse_user_agent": 2, "parse_csv": 1, "replace_strings": 3, "has_any_index": 2,
		"has_ipv4": 2, "has_ipv4_prefix": 2, "has_any_ipv4": 3, "has_any_ipv4_prefix": 3, "base64_encode_fromguid": 1,
		"base64_decode_toguid": 1, "base64_decode_toarray": 1, "parse_urlquery": 1, "parse_command_line": 2,
		"ipv4_range_to_cidr_list": 2, "array_shift_left": 3, "array_shift_right": 3, "bag_set_key": 3,
		"degrees": 1, "radians": 1, "cot": 1, "gamma": 1, "loggamma": 1, "erf": 1, "erfc": 1, "rank_tdigest": 2,
		"merge_tdigest": 2, "percentile_array_tdigest": 2, "log10": 1,
		"geo_azimuth": 4, "geo_angle": 6, "geo_intersection_2polygons": 2, "geo_union_polygons_array": 1,
		"geo_union_lines_array": 1, "geo_line_buffer": 3, "geo_polygon_buffer": 3, "geo_simplify_polygons_array": 2, "beta_cdf": 3, "beta_pdf": 3, "beta_inv": 3, "welch_test": 6, "punycode_from_string": 1, "punycode_to_string": 1,
		"geo_point_buffer":         4,
		"geo_info_from_ip_address": 1,
	}
	base := map[int][]string{1: {"1"}, 2: {"1", "1"}, 3: {"1", "1", "1"}, 4: {"1", "1", "1", "1"}, 5: {"1", "1", "1", "1", "1"}, 6: {"1", "1", "2", "1", "1", "2"}}
	calls := map[string][]string{}
	for fn, n := range fns {
		calls[fn] = base[n]
	}
	edgeCallsNeverCrash(t, calls, edge)
}

// edgeCallsNeverCrash calls each function with its base arguments, one
// position at a time replaced by each edge value, and requires a result or
// a query error, never a recovered panic; most calls must be answered, or
// the edge values do not reach the functions.
func edgeCallsNeverCrash(t *testing.T, calls map[string][]string, edge []string) {
	t.Helper()
	geoIP := fixtureGeoIP(t) // so that geo_info_from_ip_address runs rather than being refused
	ran, answered := 0, 0
	for fn, base := range calls {
		for pos := range base {
			for _, e := range edge {
				args := append([]string(nil), base...)
				args[pos] = e
				q := "print r = " + fn + "(" + strings.Join(args, ", ") + ")"
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, err := Run(ctx, q, Options{GeoIP: geoIP})
				cancel()
				ran++
				if err == nil {
					answered++
				}
				var ie *InternalError
				if errors.As(err, &ie) {
					t.Errorf("internal error %s for query:\n%s", ie.Detail, q)
				}
			}
		}
	}
	t.Logf("ran %d calls, %d answered (the others are query errors)", ran, answered)
	if answered < ran/2 {
		t.Errorf("only %d of %d calls answered: the edge values mostly do not reach the functions", answered, ran)
	}
}
