package pcap

import (
	"hash/fnv"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// Config describes a pcap port. Zero fields take their defaults.
type Config struct {
	Name     string
	Rx       string       // capture to replay; empty: no input
	Tx       string       // capture to write; empty: sent frames are counted and freed
	LinkType pkt.LinkType // default Ethernet; the rx file must match
	MTU      int          // default 1500
	MAC      [6]byte      // zero: derived from Name (Ethernet ports only)
}

// DefaultMTU is the MTU of a port whose Config leaves it zero.
const DefaultMTU = 1500

func (c Config) withDefaults() Config {
	if c.MTU <= 0 {
		c.MTU = DefaultMTU
	}
	if c.MAC == ([6]byte{}) && c.LinkType == pkt.LinkEthernet {
		c.MAC = deriveMAC(c.Name)
	}
	return c
}

// deriveMAC is ring.DeriveMAC: 02 and five bytes of the name's FNV-1a
// hash, so a port keeps its MAC whichever driver carries it.
func deriveMAC(name string) [6]byte {
	h := fnv.New64a()
	h.Write([]byte(name))
	s := h.Sum64()
	return [6]byte{0x02, byte(s >> 32), byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
}
