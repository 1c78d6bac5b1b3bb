package stage

import (
	"time"

	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// policyUse stamps the policies a burst matches (spd.Policy.MarkUsed, for
// the control plane's use lifetimes): once per run of packets on the same
// policy, with the wall-clock second read once per burst, and only when a
// policy matched.
type policyUse struct {
	last *spd.Policy
	sec  int64 // unix seconds; 0 until the burst needs it
}

// reset starts a burst.
func (u *policyUse) reset() { u.last, u.sec = nil, 0 }

// mark stamps p (may be nil).
func (u *policyUse) mark(p *spd.Policy) {
	if p == nil || p == u.last {
		return
	}
	if u.sec == 0 {
		u.sec = time.Now().Unix()
	}
	u.last = p
	p.MarkUsed(u.sec)
}
