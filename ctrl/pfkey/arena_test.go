package pfkey

import (
	"bytes"
	"reflect"
	"testing"
)

// checkDecodeIn decodes b into a twice (the second time beside the first)
// and wants Decode's result, m or err, both times.
func checkDecodeIn(t *testing.T, a *Arena, d Dialect, b []byte, m *Msg, err error) {
	t.Helper()
	for range 2 {
		ma, aerr := DecodeIn(d, b, a)
		if (err == nil) != (aerr == nil) || err != nil && err.Error() != aerr.Error() {
			t.Fatalf("%v: Decode error %v, DecodeIn error %v", d, err, aerr)
		}
		if err == nil && !reflect.DeepEqual(m, ma) {
			t.Fatalf("%v: DecodeIn differs from Decode\n got %s\nwant %s", d, dump(ma), dump(m))
		}
		if err != nil && ma != nil {
			t.Fatalf("%v: message with error %v", d, aerr)
		}
	}
}

// TestDecodeInGoldens: every golden decodes into an Arena as on the heap,
// across chunk growth and Resets.
func TestDecodeInGoldens(t *testing.T) {
	var a Arena
	for round := range 3 {
		for _, g := range goldens {
			b := g.wire(t)
			m, err := Decode(g.d, b)
			checkDecodeIn(t, &a, g.d, b, m, err)
		}
		if round == 1 {
			a.Reset()
		}
	}
}

// TestArenaResetWipesKeys: Reset zeroes the key bytes of every message
// decoded since the last Reset, inline or not, in every chunk.
func TestArenaResetWipesKeys(t *testing.T) {
	var a Arena
	var keys [][]byte
	for _, g := range goldens {
		m, err := DecodeIn(g.d, g.wire(t), &a)
		if err != nil {
			continue
		}
		for _, k := range []*Key{m.AuthKey, m.EncKey} {
			if k != nil && len(k.Data) > 0 {
				keys = append(keys, k.Data)
			}
		}
	}
	big := &Msg{Header: Header{Type: MsgAdd, SAType: SATypeESP}, SA: &SA{SPI: 0x1000, Auth: AAlgSHA2512},
		Src:     &Address{Addr: hostA, PrefixLen: 32},
		Dst:     &Address{Addr: hostB, PrefixLen: 32},
		AuthKey: &Key{Bits: 8 * 80, Data: bytes.Repeat([]byte{0xa5}, 80)}}
	wire, err := Encode(Linux, big)
	if err != nil {
		t.Fatal(err)
	}
	m, err := DecodeIn(Linux, wire, &a)
	if err != nil {
		t.Fatal(err)
	}
	keys = append(keys, m.AuthKey.Data)
	if len(keys) < 5 || len(a.older) == 0 {
		t.Fatalf("%d keys in %d older chunks: the test should span chunks", len(keys), len(a.older))
	}
	a.Reset()
	for i, k := range keys {
		if !bytes.Equal(k, make([]byte, len(k))) {
			t.Errorf("key %d not wiped: %x", i, k)
		}
	}
}

// TestDecodeInAllocs: an ADD decoded into a warm Arena allocates nothing.
func TestDecodeInAllocs(t *testing.T) {
	for _, name := range []string{"fb ADD strongSwan AES-GCM NAT-T", "lx ADD strongSwan AES-GCM NAT-T"} {
		d, wire := benchGolden(t, name)
		var a Arena
		n := testing.AllocsPerRun(100, func() {
			if _, err := DecodeIn(d, wire, &a); err != nil {
				t.Fatal(err)
			}
			a.Reset()
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per decode, want 0", name, n)
		}
	}
}
