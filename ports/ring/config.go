package ring

import (
	"hash/fnv"
	"math/bits"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// Config describes one ring port. Zero fields take their defaults.
type Config struct {
	Name     string
	MAC      [6]byte      // zero: derived from Name (Ethernet ports only)
	LinkType pkt.LinkType // default Ethernet
	MTU      int          // default 1500
	Queues   int          // rx and tx queues, default 1
	Size     int          // slots per rx queue, rounded up to a power of two, default 1024
}

// Defaults for Config.
const (
	DefaultMTU  = 1500
	DefaultSize = 1024
)

// withDefaults fills in zero fields.
func (c Config) withDefaults() Config {
	if c.MTU <= 0 {
		c.MTU = DefaultMTU
	}
	if c.Queues < 1 {
		c.Queues = 1
	}
	if c.Size < 1 {
		c.Size = DefaultSize
	}
	c.Size = 1 << bits.Len(uint(c.Size-1))
	if c.MAC == ([6]byte{}) && c.LinkType == pkt.LinkEthernet {
		c.MAC = DeriveMAC(c.Name)
	}
	return c
}

// DeriveMAC returns a stable locally administered unicast MAC for a port
// name: 02 followed by five bytes of its FNV-1a hash.
func DeriveMAC(name string) [6]byte {
	h := fnv.New64a()
	h.Write([]byte(name))
	s := h.Sum64()
	return [6]byte{0x02, byte(s >> 32), byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
}
