package sad

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/alg"
)

// TestNewCopiesKeys: New keeps its own copies of the keys, inline or not,
// apart from each other and from the caller's; Wipe zeroes them.
func TestNewCopiesKeys(t *testing.T) {
	for _, tc := range []struct {
		name     string
		enc      alg.EncID
		encKey   []byte
		auth     alg.AuthID
		authKey  []byte
		wantNone bool
	}{
		{"aes-gcm-256 inline", alg.EncAESGCM16, bytes.Repeat([]byte{1}, 36), 0, nil, false},
		{"aes-cbc+hmac-sha256 on the heap", alg.EncAESCBC, bytes.Repeat([]byte{2}, 16), alg.AuthHMACSHA256, bytes.Repeat([]byte{3}, 32), false},
		{"null+hmac-sha256", alg.EncNull, nil, alg.AuthHMACSHA256, bytes.Repeat([]byte{4}, 32), false},
		{"larval", 0, nil, 0, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			encKey, authKey := bytes.Clone(tc.encKey), bytes.Clone(tc.authKey)
			sa, err := New(Config{Proto: ProtoESP, SPI: 0x1000, Src: netip.MustParseAddr("192.0.2.1"),
				Dst: netip.MustParseAddr("192.0.2.2"), Enc: tc.enc, EncKey: encKey, Auth: tc.auth, AuthKey: authKey}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantNone {
				if sa.EncKey != nil || sa.AuthKey != nil {
					t.Fatalf("keys %x %x for an SA without keys", sa.EncKey, sa.AuthKey)
				}
				return
			}
			clear(encKey)
			clear(authKey)
			if !bytes.Equal(sa.EncKey, tc.encKey) || !bytes.Equal(sa.AuthKey, tc.authKey) {
				t.Fatalf("keys %x %x changed with the caller's, want %x %x", sa.EncKey, sa.AuthKey, tc.encKey, tc.authKey)
			}
			if cap(sa.EncKey) != len(sa.EncKey) || cap(sa.AuthKey) != len(sa.AuthKey) {
				t.Fatalf("key capacities %d %d reach past the keys", cap(sa.EncKey), cap(sa.AuthKey))
			}
			sa.Wipe()
			if !bytes.Equal(sa.EncKey, make([]byte, len(tc.encKey))) || !bytes.Equal(sa.AuthKey, make([]byte, len(tc.authKey))) {
				t.Fatalf("keys %x %x after Wipe", sa.EncKey, sa.AuthKey)
			}
		})
	}
}

// BenchmarkNewGCM is New for an AES-GCM SA, as PF_KEY ADDs make them.
func BenchmarkNewGCM(b *testing.B) {
	cfg := Config{Proto: ProtoESP, SPI: 0x1000, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"),
		Enc: alg.EncAESGCM16, EncKey: bytes.Repeat([]byte{1}, 36), ReplayWindow: 64}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(cfg, now); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOutNodeWith: the inline shortcut builds the group withSA does, in
// id order, whatever the ids.
func TestOutNodeWith(t *testing.T) {
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	sa := func(id uint64) *SA { return &SA{id: id} }
	for _, tc := range [][]uint64{{}, {1}, {3}, {1, 4}, {3, 4}, {5, 6}, {1, 2, 4}} {
		for _, id := range []uint64{2, 7} {
			var sas []*SA
			for _, i := range tc {
				sas = append(sas, sa(i))
			}
			x := sa(id)
			got := outNodeWith(ProtoESP, a, b, sas, x)
			want := newOutNode(ProtoESP, a, b, withSA(sas, x))
			if got.src != want.src || got.dst != want.dst || got.proto != want.proto {
				t.Fatalf("%v + %d: group key differs", tc, id)
			}
			gl, wl := got.list(), want.list()
			if len(gl) != len(wl) {
				t.Fatalf("%v + %d: %d SAs, want %d", tc, id, len(gl), len(wl))
			}
			for i := range gl {
				if gl[i] != wl[i] {
					t.Fatalf("%v + %d: SA %d has id %d, want %d", tc, id, i, gl[i].id, wl[i].id)
				}
			}
		}
	}
}
