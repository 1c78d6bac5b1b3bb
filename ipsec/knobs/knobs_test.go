package knobs

import (
	"strings"
	"testing"
)

func TestEveryIPsec4KnobExists(t *testing.T) {
	for _, n := range []string{
		"net.inet.ipsec.def_policy", "net.inet.ipsec.esp_trans_deflev", "net.inet.ipsec.esp_net_deflev",
		"net.inet.ipsec.ah_trans_deflev", "net.inet.ipsec.ah_net_deflev", "net.inet.ipsec.ah_cleartos",
		"net.inet.ipsec.ah_offsetmask", "net.inet.ipsec.dfbit", "net.inet.ipsec.ecn", "net.inet.ipsec.debug",
		"net.inet.ipsec.filtertunnel", "net.inet6.ipsec6.def_policy", "net.inet6.ipsec6.esp_trans_deflev",
		"net.inet6.ipsec6.esp_net_deflev", "net.inet6.ipsec6.ah_trans_deflev", "net.inet6.ipsec6.ah_net_deflev",
		"net.inet6.ipsec6.ecn", "net.inet6.ipsec6.debug", "net.inet6.ipsec6.filtertunnel",
		"net.inet.esp.esp_enable", "net.inet.ah.ah_enable", "net.inet.ipcomp.ipcomp_enable",
		"net.key.preferred_oldsa", "net.key.blockacq_count", "net.key.blockacq_lifetime",
	} {
		d := Defaults()
		if _, err := d.Get(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

func TestSetValidatesAndChangesNothingOnError(t *testing.T) {
	h := NewHolder(Defaults())
	before := h.Load()
	for _, bad := range [][2]string{
		{"net.inet.ipsec.nosuch", "1"}, {"net.inet.ipsec.dfbit", "3"}, {"net.inet.ipsec.dfbit", "x"},
		{"net.inet.ipsec.def_policy", "-1"},
	} {
		if err := h.Set(bad[0], bad[1]); err == nil {
			t.Errorf("%s=%s accepted", bad[0], bad[1])
		}
	}
	if err := h.SetMany([][2]string{{"net.inet.ipsec.dfbit", "1"}, {"net.inet.ipsec.ecn", "7"}}); err == nil {
		t.Fatal("half-valid batch accepted")
	}
	if h.Load() != before {
		t.Fatal("a failed Set changed the values")
	}
	if err := h.Set("net.inet6.ipsec6.ecn", "1"); err != nil || h.Load().Fam[V6].ECN != 1 || h.Load().Fam[V4].ECN != 0 {
		t.Fatalf("set v6 ecn: %v", err)
	}
	if err := h.Set("net.inet.ipsec.ah_offsetmask", "0x1fff"); err != nil || h.Load().AHOffsetMask != 0x1fff {
		t.Fatal("hex values must parse")
	}
	if len(Names()) != 25+2 || !strings.HasPrefix(Names()[0], "net.") {
		t.Fatalf("names: %v", Names())
	}
}
