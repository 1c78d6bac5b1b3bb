package shimtest_test

import (
	"testing"

	"github.com/fastipsec/fastipsec/cmd/ipsecd/ipsecdtest"
)

// The "done": a C program using socket(PF_KEY, ...) under the shim
// talks to ipsecd.
func TestShimAgainstIpsecd(t *testing.T) {
	shim, client := build(t)
	out := runClient(t, shim, client, ipsecdtest.Start(t))
	t.Log(out)
	checkRealReplies(t, out)
}
