package config

import (
	"reflect"
	"strings"
	"testing"
)

const encLan = "ports:\n  - {name: lan, driver: ring}\n"

func TestEncAndAdmin(t *testing.T) {
	c, err := Parse("f.yaml", []byte(encLan+`admin: {socket: /tmp/a.sock, allow_uids: [0, 1000], allow_gids: [50]}
enc:
  rules:
    - drop in proto tcp to any port 23
    - pass out spi 0x1001
`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Admin.AllowUIDs, []int{0, 1000}) || !reflect.DeepEqual(c.Admin.AllowGIDs, []int{50}) {
		t.Errorf("admin %+v", c.Admin)
	}
	if len(c.Enc.Rules) != 2 || c.Enc.Rules[0].String() != "drop in proto tcp to any port 23" ||
		c.Enc.Rules[1].String() != "pass out spi 0x1001" || c.Enc.Line != 5 {
		t.Errorf("enc %+v", c.Enc)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad rule", "enc:\n  rules:\n    - drop in\n    - drop sideways\n", `f.yaml:6: enc.rules[1]: unexpected "sideways"`},
		{"not a list", "enc: {rules: drop}\n", "f.yaml:3: enc.rules: want a sequence, got a string"},
		{"unknown key", "enc: {filters: []}\n", "f.yaml:3: enc.filters: unknown key (want rules)"},
		{"bad uid", "admin: {allow_uids: [-1]}\n", "f.yaml:3: admin.allow_uids[0]: -1 is out of range"},
	} {
		_, err := Parse("f.yaml", []byte(encLan+tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
