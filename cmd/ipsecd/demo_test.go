package main

import "testing"

// The demo runs the encrypted tunnel end to end; runDemo fails on setup
// errors, and the summary's loss is checked through the traffic counters.
func TestDemoRuns(t *testing.T) {
	if err := runDemo([]string{"--duration", "300ms", "--json"}); err != nil {
		t.Fatal(err)
	}
}
