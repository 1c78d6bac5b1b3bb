package pfkey

// Arena lends DecodeIn the memory of a message and of its common
// extensions (SA, SA2, lifetimes, addresses, keys, NAT-T, SPI range and
// the extension order), so a server decoding a stream of SADB_ADDs
// allocates once per burst rather than a dozen times per message. The
// rarer extensions (identities, proposals, policies, ...) still come from
// the heap.
//
// A message decoded into an Arena, and everything it points to, is valid
// only until Reset: Reset wipes the key bytes and zeroes the blocks for
// reuse. The zero value is ready; an Arena is not safe for concurrent use.
type Arena struct {
	cur   []block   // blocks of the current chunk; cur[:n] are lent
	n     int       // blocks lent from cur
	older [][]block // chunks filled before cur since the last Reset
}

// keyInline is the key size a block holds without allocating: HMAC-SHA512
// keys (64 bytes) and AES-256 with its salt (36) fit.
const keyInline = 64

// block is the memory of one decoded message.
type block struct {
	msg      Msg
	sa       SA
	sa2      SA2
	lifetime [3]Lifetime // current, hard, soft
	addr     [7]Address  // by addrSlot
	key      [2]Key      // auth, encrypt
	keyBytes [2][keyInline]byte
	nattType NATTType
	nattPort [2]NATTPort // sport, dport
	spiRange SPIRange
	order    [16]ExtType
}

// Reset wipes the keys of every message decoded since the last Reset and
// makes their memory reusable; those messages must not be used again.
func (a *Arena) Reset() {
	for _, c := range a.older {
		wipeBlocks(c)
	}
	clear(a.older)
	a.older = a.older[:0]
	wipeBlocks(a.cur[:a.n])
	a.n = 0
}

// wipeBlocks wipes the keys of bs, wherever their bytes are, and zeroes bs.
func wipeBlocks(bs []block) {
	for i := range bs {
		bs[i].msg.WipeKeys()
	}
	clear(bs)
}

// next lends a zeroed block, growing the arena by a chunk when full (the
// blocks already lent stay where they are).
func (a *Arena) next() *block {
	if a.n == len(a.cur) {
		if len(a.cur) > 0 {
			a.older = append(a.older, a.cur)
		}
		a.cur = make([]block, max(2*len(a.cur), 4))
		a.n = 0
	}
	a.n++
	return &a.cur[a.n-1]
}

// The slot accessors return the block's slot for an extension, or a new
// heap value when decoding without an Arena (b is nil).

func (b *block) saSlot() *SA {
	if b == nil {
		return new(SA)
	}
	return &b.sa
}

func (b *block) sa2Slot() *SA2 {
	if b == nil {
		return new(SA2)
	}
	return &b.sa2
}

func (b *block) lifetimeSlot(k kind) *Lifetime {
	if b == nil {
		return new(Lifetime)
	}
	return &b.lifetime[k-kLifetimeCurrent]
}

func (b *block) addrSlot(k kind) *Address {
	if b == nil {
		return new(Address)
	}
	switch k {
	case kSrc:
		return &b.addr[0]
	case kDst:
		return &b.addr[1]
	case kProxy:
		return &b.addr[2]
	case kNATTOAI:
		return &b.addr[3]
	case kNATTOAR:
		return &b.addr[4]
	case kNewSrc:
		return &b.addr[5]
	}
	return &b.addr[6] // kNewDst
}

// keySlot returns the Key for k and a copy of data it owns: in the block
// when the key fits, else on the heap.
func (b *block) keySlot(k kind, data []byte) (*Key, []byte) {
	if b == nil {
		return new(Key), clone(data)
	}
	i := 0
	if k == kKeyEncrypt {
		i = 1
	}
	if len(data) > keyInline {
		return &b.key[i], clone(data)
	}
	return &b.key[i], append(b.keyBytes[i][:0:len(data)], data...)
}

func (b *block) nattTypeSlot() *NATTType {
	if b == nil {
		return new(NATTType)
	}
	return &b.nattType
}

func (b *block) nattPortSlot(k kind) *NATTPort {
	if b == nil {
		return new(NATTPort)
	}
	return &b.nattPort[k-kNATTSport]
}

func (b *block) spiRangeSlot() *SPIRange {
	if b == nil {
		return new(SPIRange)
	}
	return &b.spiRange
}
