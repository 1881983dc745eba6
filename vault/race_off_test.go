//go:build !race

package vault

// raceDetector is true when the tests run with -race, which makes child
// processes many times slower.
const raceDetector = false
