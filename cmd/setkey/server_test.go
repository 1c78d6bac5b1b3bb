package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/cmd/ipsecd/ipsecdtest"
)

const e2eScript = `flush;
spdflush;
add 192.0.2.1 192.0.2.2 esp 0x1000 -m tunnel -u 7 -r 4 -lh 3600
	-E aes-gcm-16 0x0102030405060708090a0b0c0d0e0f1011121314;
add 192.0.2.2 192.0.2.1 esp 0x1001 -m tunnel -E aes-cbc 0x000102030405060708090a0b0c0d0e0f
	-A hmac-sha2-256 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f;
spdadd 10.0.0.0/24 10.0.1.0/24 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.2/require;
spdadd 10.0.1.0/24 10.0.0.0/24 any -P in ipsec esp/tunnel/192.0.2.2-192.0.2.1/require;
`

// setkey against ipsecd's PF_KEY server in-process.
func TestAgainstKeyServer(t *testing.T) {
	path, m := ipsecdtest.KeyServer(t)
	exercise(t, path)
	if n := m.SAD.Len() + m.SPD.Len(); n != 0 {
		t.Errorf("%d entries left after -F and -FP", n)
	}
}

// exercise runs setkey against the server at path: -f installs two SAs and
// two policies, -D and -DP show them, a duplicate add reports its line, and
// -F and -FP empty both databases.
func exercise(t *testing.T, path string) {
	old := clock
	clock = time.Now // the server stamps real times
	defer func() { clock = old }()
	conf := filepath.Join(t.TempDir(), "sa.conf")
	if err := os.WriteFile(conf, []byte(e2eScript), 0o600); err != nil {
		t.Fatal(err)
	}
	if status, out, errs := runSetkey(t, "", "-f", conf, "-S", path); status != 0 || out != "" || errs != "" {
		t.Fatalf("-f: status %d, out %q, err %q", status, out, errs)
	}

	status, out, errs := runSetkey(t, "", "-D", "-S", path)
	if status != 0 || errs != "" {
		t.Fatalf("-D: status %d, err %q", status, errs)
	}
	for _, want := range []string{
		"192.0.2.1 192.0.2.2\n\tesp mode=tunnel spi=4096(0x00001000) reqid=7(0x00000007)\n",
		"\tE: aes-gcm-16  01020304 05060708 090a0b0c 0d0e0f10 11121314\n",
		"\tseq=0x00000000 replay=4 flags=0x", " state=mature \n",
		"\tdiff: ", "\thard: 3600(s)\tsoft: 0(s)\n",
		"192.0.2.2 192.0.2.1\n\tesp mode=tunnel spi=4097(0x00001001) reqid=0(0x00000000)\n",
		"\tE: aes-cbc  00010203 04050607 08090a0b 0c0d0e0f\n",
		"\tA: hmac-sha2-256  00010203 04050607 08090a0b 0c0d0e0f 10111213 14151617 18191a1b 1c1d1e1f\n",
		"pid=4242 refcnt=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("-D output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\tsadb_seq="); n != 2 {
		t.Errorf("-D printed %d SAs, want 2:\n%s", n, out)
	}

	status, out, errs = runSetkey(t, "", "-DP", "-S", path)
	if status != 0 || errs != "" {
		t.Fatalf("-DP: status %d, err %q", status, errs)
	}
	for _, want := range []string{
		"10.0.0.0/24[any] 10.0.1.0/24[any] any\n\tout ipsec\n\tesp/tunnel/192.0.2.1-192.0.2.2/require\n",
		"10.0.1.0/24[any] 10.0.0.0/24[any] any\n\tin ipsec\n\tesp/tunnel/192.0.2.2-192.0.2.1/require\n",
		"scope=global \n\trefcnt=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("-DP output lacks %q:\n%s", want, out)
		}
	}

	// The same SA again: EEXIST at its line.
	status, out, _ = runSetkey(t, "add 192.0.2.1 192.0.2.2 esp 0x1000 -m tunnel\n"+
		"\t-E aes-gcm-16 0x0102030405060708090a0b0c0d0e0f1011121314;\n", "-c", "-S", path)
	if status != 1 || out != "The result of line 1: File exists.\n" {
		t.Errorf("duplicate add: status %d, out %q", status, out)
	}

	for _, args := range []string{"-F", "-FP"} {
		if status, out, errs := runSetkey(t, "", args, "-S", path); status != 0 || out != "" || errs != "" {
			t.Errorf("%s: status %d, out %q, err %q", args, status, out, errs)
		}
	}
	for args, want := range map[string]string{"-D": "No SAD entries.\n", "-DP": "No SPD entries.\n"} {
		if status, out, _ := runSetkey(t, "", args, "-S", path); status != 0 || out != want {
			t.Errorf("%s after flush: status %d, out %q, want %q", args, status, out, want)
		}
	}
}
