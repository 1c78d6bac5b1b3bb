package setkey

import (
	"os"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/freebsd-examples.conf", "testdata/ipsec-tools-examples.conf"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("add 10.0.0.1[4500] 10.0.0.2 esp-udp 0x1000 -m tunnel -r 4 -natt 1.2.3.4[1] 5.6.7.8[2] -E aes-gcm-16 0x00112233445566778899aabbccddeeff01020304;")
	f.Add("spdadd 10.0.0.0/8[any] ::/0 icmp6 1,2 -P out prio def + 3 ipsec esp/transport//unique:5 ah/tunnel/1.1.1.1-2.2.2.2/use;")
	f.Add("add 1.1.1.1 2.2.2.2 ah 300 -A null \"unterminated")
	f.Fuzz(func(t *testing.T, s string) {
		cmds, err := Parse("fuzz", strings.NewReader(s))
		for _, c := range cmds {
			if c.Op == 0 || c.Line < 1 || (c.SA == nil) == (c.Op <= OpDeleteAll) {
				t.Fatalf("bad command %+v", c)
			}
		}
		_ = err
	})
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{"out ipsec esp/tunnel/192.0.2.1-198.51.100.1/require", "in prio high - 4 discard",
		"-P out ipsec ipcomp/tunnel/::1[1]-::2/use esp/transport//require", "fwd bypass", "out prio -9 none"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dir, _, act, reqs, err := ParsePolicy(s)
		if err == nil && (dir == 0 || (act == ActionIPsec) != (len(reqs) > 0)) && !(act == ActionDiscard && len(reqs) == 0) {
			t.Fatalf("%q: %s %s %v", s, dir, act, reqs)
		}
	})
}
