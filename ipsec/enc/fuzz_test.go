package enc

import "testing"

// FuzzParse: any text either fails to parse or gives a rule whose text
// form parses back to the same rule.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"pass", "drop in all", "drop in proto tcp from 192.0.2.0/24 to any port 22",
		"pass out proto udp from 2001:db8::1 port 1000-2000 to any spi 0x1001", "block proto 47",
		"pass from any to any", "drop spi 4294967295", "pass proto tcp to 10.0.0.0/8 port 0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(r.String())
		if err != nil || again != r {
			t.Fatalf("%q -> %q -> %+v, %v", s, r.String(), again, err)
		}
		compile(r)
	})
}
