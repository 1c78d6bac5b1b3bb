package ctrl

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/fastipsec/fastipsec/config/setkey"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

func apply(t *testing.T, m *Manager, text string) error {
	t.Helper()
	cmds, err := setkey.Parse("t.conf", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return m.ApplySetkey("t.conf", cmds)
}

func TestApplySetkey(t *testing.T) {
	m := NewManager(nil)
	err := apply(t, m, `
add 192.0.2.1 192.0.2.2 esp 0x1000 -m tunnel -E aes-gcm-16 0x000102030405060708090a0b0c0d0e0f10111213;
spdadd 10.1.0.0/16 10.2.0.0/16 udp -P out prio 10 ipsec esp/tunnel/192.0.2.1-192.0.2.2/require;
spdadd 10.1.0.0/16 10.2.0.0/16 any -P out none;
`)
	if err != nil {
		t.Fatal(err)
	}
	if m.SAD.Len() != 1 || m.SPD.Len() != 2 {
		t.Fatalf("SAs %d, policies %d", m.SAD.Len(), m.SPD.Len())
	}
	k := spd.KeyFor(netip.MustParseAddr("10.1.0.5"), netip.MustParseAddr("10.2.0.9"), 17, 1000, 2000)
	p := m.SPD.Lookup(spd.DirOut, &k)
	if p == nil || p.Action != spd.ActionIPsec || p.Requests[0].Proto != sad.ProtoESP {
		t.Fatalf("prio 10 ipsec policy must win: %+v", p)
	}
	// A duplicate add fails with its line; the rest still applies.
	err = apply(t, m, `
add 192.0.2.1 192.0.2.2 esp 0x1000 -m tunnel -E aes-gcm-16 0x000102030405060708090a0b0c0d0e0f10111213;
delete 192.0.2.1 192.0.2.2 esp 0x1000;
spdflush;
`)
	if err == nil || !strings.Contains(err.Error(), "t.conf:2:") {
		t.Fatalf("want an error naming line 2, got %v", err)
	}
	if m.SAD.Len() != 0 || m.SPD.Len() != 0 {
		t.Fatalf("delete/spdflush not applied: %d SAs, %d policies", m.SAD.Len(), m.SPD.Len())
	}
}

func TestHardExpiryDeletesTheSA(t *testing.T) {
	m := NewManager(nil)
	if err := apply(t, m, `add 192.0.2.1 192.0.2.2 esp 0x2000 -E aes-gcm-16 0x000102030405060708090a0b0c0d0e0f10111213;`); err != nil {
		t.Fatal(err)
	}
	sa, ok := m.SAD.Get(sad.ProtoESP, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), 0x2000)
	if !ok {
		t.Fatal("SA not installed")
	}
	var heard sad.Expiry
	m.OnExpire(func(_ *sad.SA, e sad.Expiry) { heard |= e })
	m.expired(sa, sa.ExpireNow(sad.ExpireHard))
	if heard&sad.ExpireHard == 0 || m.SAD.Len() != 0 || sa.Usable() {
		t.Fatal("hard expiry must reach listeners and remove the SA")
	}
}

func TestSysctlAllOrNothing(t *testing.T) {
	m := NewManager(nil)
	if err := m.Sysctl([][2]string{{"net.inet.ipsec.dfbit", "2"}, {"net.inet.ipsec.bogus", "1"}}); err == nil {
		t.Fatal("unknown knob accepted")
	}
	if m.Knobs.Load().DFBit != 0 {
		t.Fatal("failed batch changed a knob")
	}
}
