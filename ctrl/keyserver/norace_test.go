//go:build !race

package keyserver

const raceEnabled = false
