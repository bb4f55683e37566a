//go:build race

package logs

// raceEnabled: the race detector is on (its shadow memory counts in RSS).
const raceEnabled = true
