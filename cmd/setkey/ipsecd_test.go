package main

import (
	"testing"

	"github.com/fastipsec/fastipsec/cmd/ipsecd/ipsecdtest"
)

// setkey against a running ipsecd: add via -f, -D and -DP show, -F empties.
func TestAgainstIpsecd(t *testing.T) {
	exercise(t, ipsecdtest.Start(t))
}
