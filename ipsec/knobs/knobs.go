// Package knobs holds the run-time IPsec settings of FreeBSD's ipsec(4)
// under their sysctl names. The control plane sets them by name; the
// dataplane loads an immutable Values once per burst.
//
//	ipsecctl sysctl -w NAME=V ─► Set (validate) ─► new Values ─► atomic publish ─► cores (per burst)
package knobs

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Family selects the IPv4 (net.inet) or IPv6 (net.inet6) half of a knob
// that exists for both.
type Family uint8

// Families.
const (
	V4 Family = iota
	V6
)

// PerFamily are the knobs FreeBSD has under both net.inet.ipsec and
// net.inet6.ipsec6.
type PerFamily struct {
	DefPolicy      int // 0 discard, 1 none (no policy matched)
	ESPTransDeflev int // 1 use, 2 require (a request at level "default")
	ESPNetDeflev   int
	AHTransDeflev  int
	AHNetDeflev    int
	ECN            int // 0 compatibility, 1 RFC 6040 normal mode
	Debug          int
	FilterTunnel   int // 1: enc0 filters see the inner packets of tunnels
}

// Values is one immutable set of knob values.
type Values struct {
	Fam           [2]PerFamily
	AHClearTOS    int // non-zero: TOS is zeroed for the AH ICV (RFC 2402)
	AHOffsetMask  int // ANDed with flags/fragment offset for the AH ICV
	DFBit         int // 0 clear, 1 set, 2 copy (outer IPv4 of tunnels)
	ESPEnable     int
	AHEnable      int
	IPCompEnable  int
	PreferredOld  int // net.key.preferred_oldsa: 1 prefer the oldest SA
	BlockAcqCount int // ACQUIREs before blocking (net.key.blockacq_count)
	BlockAcqLife  int // seconds an ACQUIRE blocks (net.key.blockacq_lifetime)
	// IPCompMinLen is the smallest payload IPComp tries to compress
	// (net.inet.ipcomp.ipcomp_minlen, ours; RFC 3173 §2.2 thresholds).
	IPCompMinLen int
	// IPCompFast picks the fixed-code packet compressor (1) over
	// klauspost's dynamic-Huffman deflate (0) (net.inet.ipcomp.ipcomp_fast, ours).
	IPCompFast int
}

// Defaults are FreeBSD's defaults.
func Defaults() Values {
	pf := PerFamily{DefPolicy: 1, ESPTransDeflev: 1, ESPNetDeflev: 1, AHTransDeflev: 1, AHNetDeflev: 1}
	return Values{
		Fam:        [2]PerFamily{pf, pf},
		AHClearTOS: 1, ESPEnable: 1, AHEnable: 1, IPCompEnable: 1,
		PreferredOld: 1, BlockAcqCount: 10, BlockAcqLife: 20, IPCompMinLen: 90,
	}
}

// knob describes one sysctl name.
type knob struct {
	lo, hi int
	get    func(*Values) *int
	doc    string
}

var registry = map[string]knob{}

func reg(name string, lo, hi int, doc string, get func(*Values) *int) {
	registry[name] = knob{lo: lo, hi: hi, get: get, doc: doc}
}

func init() {
	for f, tree := range []string{"net.inet.ipsec.", "net.inet6.ipsec6."} {
		fam := f
		reg(tree+"def_policy", 0, 1, "0 discard, 1 none: packets no policy covers", func(v *Values) *int { return &v.Fam[fam].DefPolicy })
		reg(tree+"esp_trans_deflev", 1, 2, "ESP transport default level: 1 use, 2 require", func(v *Values) *int { return &v.Fam[fam].ESPTransDeflev })
		reg(tree+"esp_net_deflev", 1, 2, "ESP tunnel default level: 1 use, 2 require", func(v *Values) *int { return &v.Fam[fam].ESPNetDeflev })
		reg(tree+"ah_trans_deflev", 1, 2, "AH transport default level: 1 use, 2 require", func(v *Values) *int { return &v.Fam[fam].AHTransDeflev })
		reg(tree+"ah_net_deflev", 1, 2, "AH tunnel default level: 1 use, 2 require", func(v *Values) *int { return &v.Fam[fam].AHNetDeflev })
		reg(tree+"ecn", 0, 1, "1: ECN-friendly tunnels (RFC 6040)", func(v *Values) *int { return &v.Fam[fam].ECN })
		reg(tree+"debug", 0, 1<<30, "debug logging (control plane only)", func(v *Values) *int { return &v.Fam[fam].Debug })
		reg(tree+"filtertunnel", 0, 1, "1: enc0 filters apply to inner packets of tunnels", func(v *Values) *int { return &v.Fam[fam].FilterTunnel })
	}
	reg("net.inet.ipsec.ah_cleartos", 0, 1<<30, "non-zero: clear TOS in the AH ICV computation", func(v *Values) *int { return &v.AHClearTOS })
	reg("net.inet.ipsec.ah_offsetmask", 0, 0xffff, "mask ANDed with flags/offset in the AH ICV computation", func(v *Values) *int { return &v.AHOffsetMask })
	reg("net.inet.ipsec.dfbit", 0, 2, "outer IPv4 DF: 0 clear, 1 set, 2 copy", func(v *Values) *int { return &v.DFBit })
	reg("net.inet.esp.esp_enable", 0, 1, "ESP on (1) or off (0)", func(v *Values) *int { return &v.ESPEnable })
	reg("net.inet.ah.ah_enable", 0, 1, "AH on (1) or off (0)", func(v *Values) *int { return &v.AHEnable })
	reg("net.inet.ipcomp.ipcomp_enable", 0, 1, "IPComp on (1) or off (0)", func(v *Values) *int { return &v.IPCompEnable })
	reg("net.inet.ipcomp.ipcomp_minlen", 0, 65535, "smallest payload IPComp compresses", func(v *Values) *int { return &v.IPCompMinLen })
	reg("net.inet.ipcomp.ipcomp_fast", 0, 1, "1: fixed-code compressor, several times faster, larger output; 0: dynamic Huffman", func(v *Values) *int { return &v.IPCompFast })
	reg("net.key.preferred_oldsa", 0, 1, "1: outbound uses the oldest SA, 0: the newest", func(v *Values) *int { return &v.PreferredOld })
	reg("net.key.blockacq_count", 0, 1<<20, "ACQUIREs sent before blocking", func(v *Values) *int { return &v.BlockAcqCount })
	reg("net.key.blockacq_lifetime", 0, 1<<20, "seconds an ACQUIRE blocks further ones", func(v *Values) *int { return &v.BlockAcqLife })
}

// Names returns every knob name, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Doc returns a knob's one-line description.
func Doc(name string) string { return registry[name].doc }

// Get returns a knob's value in v.
func (v *Values) Get(name string) (int, error) {
	k, ok := registry[name]
	if !ok {
		return 0, fmt.Errorf("unknown oid '%s'", name)
	}
	return *k.get(v), nil
}

// With returns a copy of v with name set to value, validating both.
func (v Values) With(name, value string) (Values, error) {
	k, ok := registry[name]
	if !ok {
		return v, fmt.Errorf("unknown oid '%s'", name)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(value), 0, 64)
	if err != nil {
		return v, fmt.Errorf("%s: invalid integer %q", name, value)
	}
	if n < int64(k.lo) || n > int64(k.hi) {
		return v, fmt.Errorf("%s: %d out of range %d..%d", name, n, k.lo, k.hi)
	}
	*k.get(&v) = int(n)
	return v, nil
}

// Holder publishes Values to the dataplane.
type Holder struct {
	mu  sync.Mutex
	cur atomic.Pointer[Values]
}

// NewHolder starts with v.
func NewHolder(v Values) *Holder {
	h := &Holder{}
	h.cur.Store(&v)
	return h
}

// Load returns the current values (once per burst).
func (h *Holder) Load() *Values { return h.cur.Load() }

// Set changes one knob; invalid names or values change nothing.
func (h *Holder) Set(name, value string) error {
	return h.SetMany([][2]string{{name, value}})
}

// SetMany changes several knobs atomically: all or none.
func (h *Holder) SetMany(kv [][2]string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	v := *h.cur.Load()
	for _, p := range kv {
		var err error
		if v, err = v.With(p[0], p[1]); err != nil {
			return err
		}
	}
	h.cur.Store(&v)
	return nil
}
