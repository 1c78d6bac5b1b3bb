//go:build linux

package pfkey

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLinuxHeaderCrossCheck builds messages in C with the structures of
// the system's <linux/pfkeyv2.h> (testdata/linux_pfkeyv2.c) and checks
// that they are byte for byte the hand-written goldens of the same name,
// which Decode and Encode are tested against; it also checks the struct
// sizes the codec's length tables assume.
func TestLinuxHeaderCrossCheck(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("goldens are little-endian")
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler: ", err)
	}
	if _, err := os.Stat("/usr/include/linux/pfkeyv2.h"); err != nil {
		t.Skip("no <linux/pfkeyv2.h> (install linux-libc-dev): ", err)
	}
	bin := filepath.Join(t.TempDir(), "linux_pfkeyv2")
	if out, err := exec.Command(cc, "-O0", "-Wall", "-Werror", "-o", bin, "testdata/linux_pfkeyv2.c").CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int{
		"sadb_msg": HeaderLen, "sadb_sa": specs[kSA].min, "sadb_lifetime": specs[kLifetimeHard].min,
		"sadb_address": addrMin, "sadb_key": specs[kKeyAuth].min, "sadb_ident": specs[kIdentitySrc].min,
		"sadb_sens": specs[kSensitivity].min, "sadb_prop": specs[kProposal].min, "sadb_comb": combLen,
		"sadb_supported": specs[kSupportedAuth].min, "sadb_alg": 8, "sadb_spirange": specs[kSPIRange].min,
		"sadb_x_kmprivate": specs[kKMPrivate].min, "sadb_x_sa2": specs[kSA2].min, "sadb_x_policy": specs[kPolicy].min,
		"sadb_x_ipsecrequest": reqHdrLen(Linux), "sadb_x_nat_t_type": specs[kNATTType].min,
		"sadb_x_nat_t_port": specs[kNATTSport].min, "sadb_x_sec_ctx": specs[kSecCtx].min,
		"sadb_x_kmaddress": specs[kKMAddress].min, "sadb_x_filter": specs[kFilter].min,
	}
	messages := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if f[0] == "sizeof" {
			n, _ := strconv.Atoi(f[2])
			if want, ok := sizes[f[1]]; !ok || n != want {
				t.Errorf("sizeof(struct %s) = %d, codec assumes %d", f[1], n, want)
			}
			delete(sizes, f[1])
			continue
		}
		c, err := hex.DecodeString(f[1])
		if err != nil {
			t.Fatal(err)
		}
		want := goldenWire(t, f[0])
		if !bytes.Equal(c, want) {
			t.Errorf("%s: C built\n%x\ngolden\n%x", f[0], c, want)
		}
		if _, err := Decode(Linux, c); err != nil {
			t.Errorf("%s: Decode: %v", f[0], err)
		}
		messages++
	}
	if len(sizes) != 0 || messages < 12 {
		t.Errorf("C program printed too little: missing sizes %v, %d messages", sizes, messages)
	}
}
