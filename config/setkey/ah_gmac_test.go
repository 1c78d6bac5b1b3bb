package setkey

import (
	"strings"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// TestAHGMAC: "ah ... -A aes-gmac key" keys AES-GMAC in AH (RFC 4543)
// with a key and salt, and the SA installs.
func TestAHGMAC(t *testing.T) {
	cmds, err := Parse("t", strings.NewReader("add 10.0.0.1 10.0.0.2 ah 0x1000 -A aes-gmac 0x000102030405060708090a0b0c0d0e0f10111213;\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := cmds[0].SA.Config
	if c.Enc != alg.EncAESGMAC || len(c.EncKey) != 20 || c.Proto != sad.ProtoAH {
		t.Fatalf("%+v", c)
	}
	if _, err := sad.New(c, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"add 10.0.0.1 10.0.0.2 ah 0x1000 -A aes-gmac 0x0001;\n",
		"add 10.0.0.1 10.0.0.2 esp 0x1000 -E null -A aes-gmac 0x000102030405060708090a0b0c0d0e0f10111213;\n",
	} {
		if _, err := Parse("t", strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
