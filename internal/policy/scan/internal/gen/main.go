// Command gen writes a synthetic estate for benchmarking steward
// policy scan:
//
//	go run ./internal/policy/scan/internal/gen -n 100000 > estate.jsonl
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/steward-gov/steward/internal/policy/scan/internal/gen/synth"
)

func main() {
	n := flag.Int("n", 100000, "number of resources")
	seed := flag.Uint64("seed", 1, "random seed")
	format := flag.String("format", "jsonl", "jsonl or json (an array, as az resource list prints)")
	flag.Parse()
	if err := synth.Write(os.Stdout, *n, *seed, *format); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
