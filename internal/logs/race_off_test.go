//go:build !race

package logs

// raceEnabled: the race detector is off.
const raceEnabled = false
