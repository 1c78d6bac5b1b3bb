package afpacket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// Port is an AF_PACKET port on one Linux interface.
type Port struct {
	name    string
	ifname  string
	ifindex int
	mac     [6]byte
	mtu     int
	rx      []rxQueue
	tx      []txQueue
	ctr     stats.Port

	mu     sync.Mutex // guards closed against Stats and Close
	closed bool
}

// rxQueue is one rx ring, owned by the single core that polls it.
type rxQueue struct {
	fd        int
	ring      []byte // the socket's whole mapping; the rx ring comes first
	blockSize int
	numBlocks int
	cur       int // block being read, or next to be handed over
	left      int // frames left in block cur; 0 = not reading one
	off       int // ring offset of the next frame in block cur
	cache     *pkt.Cache
	_         [64]byte
}

// txQueue is one tx ring; mu makes TxBurst safe for concurrent callers.
type txQueue struct {
	mu        sync.Mutex
	fd        int
	ring      []byte // the tx part of the mapping
	frameSize int
	perBlock  int
	blockSize int
	frames    int
	head      int // next slot to fill
	cache     *pkt.Cache
	_         [64]byte
}

// Open opens a port on cfg.Interface in the calling thread's network
// namespace, taking receive buffers from pool.
func Open(cfg Config, pool *pkt.Pool) (*Port, error) {
	if cfg.Interface == "" {
		return nil, errors.New("afpacket: no interface")
	}
	if pool == nil {
		return nil, errors.New("afpacket: no pool")
	}
	p := &Port{ifname: cfg.Interface}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()
	for q := 0; ; q++ {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
		if err != nil {
			return nil, fmt.Errorf("afpacket: socket: %w", err)
		}
		if q == 0 {
			if err := p.readInterface(fd, &cfg); err != nil {
				unix.Close(fd)
				return nil, err
			}
			cfg = cfg.withDefaults(p.mtu)
			p.name = cfg.Name
			if err := validate(cfg, p.mtu, pool); err != nil {
				unix.Close(fd)
				return nil, err
			}
			p.rx = make([]rxQueue, 0, cfg.Queues)
			p.tx = make([]txQueue, 0, cfg.Queues)
		}
		if err := p.setupQueue(fd, q, cfg, pool); err != nil {
			return nil, fmt.Errorf("afpacket: %s queue %d: %w", cfg.Interface, q, err)
		}
		if q == cfg.Queues-1 {
			break
		}
	}
	ok = true
	return p, nil
}

// readInterface resolves ifindex, MTU and MAC with ioctls on fd.
func (p *Port) readInterface(fd int, cfg *Config) error {
	var ifr ifreq
	if len(cfg.Interface) >= len(ifr.name) {
		return fmt.Errorf("afpacket: interface name %q too long", cfg.Interface)
	}
	copy(ifr.name[:], cfg.Interface)
	if err := ioctl(fd, unix.SIOCGIFINDEX, &ifr); err != nil {
		return fmt.Errorf("afpacket: interface %s: %w", cfg.Interface, err)
	}
	p.ifindex = int(binary.NativeEndian.Uint32(ifr.data[:]))
	if err := ioctl(fd, unix.SIOCGIFMTU, &ifr); err != nil {
		return fmt.Errorf("afpacket: %s mtu: %w", cfg.Interface, err)
	}
	ifMTU := int(binary.NativeEndian.Uint32(ifr.data[:]))
	switch {
	case cfg.MTU == 0:
		p.mtu = ifMTU
	case cfg.MTU < 68 || cfg.MTU > ifMTU:
		return fmt.Errorf("afpacket: MTU %d outside 68..%d (the MTU of %s)", cfg.MTU, ifMTU, cfg.Interface)
	default:
		p.mtu = cfg.MTU
	}
	if err := ioctl(fd, unix.SIOCGIFHWADDR, &ifr); err != nil {
		return fmt.Errorf("afpacket: %s hwaddr: %w", cfg.Interface, err)
	}
	if hatype := binary.NativeEndian.Uint16(ifr.data[:]); hatype != unix.ARPHRD_ETHER {
		return fmt.Errorf("afpacket: %s is not Ethernet (ARPHRD %d)", cfg.Interface, hatype)
	}
	p.mac = cfg.MAC
	if p.mac == ([6]byte{}) {
		copy(p.mac[:], ifr.data[2:8])
	}
	return nil
}

func validate(cfg Config, mtu int, pool *pkt.Pool) error {
	page := os.Getpagesize()
	switch {
	case cfg.Queues > 64:
		return fmt.Errorf("afpacket: %d queues, at most 64", cfg.Queues)
	case cfg.BlockSize%page != 0:
		return fmt.Errorf("afpacket: BlockSize %d not a multiple of the page size %d", cfg.BlockSize, page)
	case cfg.FrameSize%unix.TPACKET_ALIGNMENT != 0 || cfg.FrameSize < tpHdrLen+mtu+ethHdrLen:
		return fmt.Errorf("afpacket: FrameSize %d must be a multiple of %d and hold %d+MTU+%d bytes",
			cfg.FrameSize, unix.TPACKET_ALIGNMENT, tpHdrLen, ethHdrLen)
	case cfg.BlockSize < cfg.FrameSize:
		return fmt.Errorf("afpacket: BlockSize %d below FrameSize %d", cfg.BlockSize, cfg.FrameSize)
	case pkt.Headroom+mtu+ethHdrLen+vlanHdrLen > pool.BufSize():
		return fmt.Errorf("afpacket: pool %s buffers (%d B) too small for MTU %d after %d B headroom",
			pool.Name(), pool.BufSize(), mtu, pkt.Headroom)
	}
	return nil
}

// setupQueue configures socket fd as queue q: rings, mapping, bind,
// promiscuity and fanout. It owns fd from here on.
func (p *Port) setupQueue(fd, q int, cfg Config, pool *pkt.Pool) error {
	// Register the queue first so that Close releases fd on failure.
	p.rx = append(p.rx, rxQueue{fd: fd, blockSize: cfg.BlockSize, numBlocks: cfg.NumBlocks, cache: pool.NewCache()})
	p.tx = append(p.tx, txQueue{fd: -1, cache: pool.NewCache()})
	rx, tx := &p.rx[q], &p.tx[q]

	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fmt.Errorf("PACKET_VERSION: %w", err)
	}
	// PACKET_LOSS: a malformed tx slot is skipped instead of wedging the ring.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_LOSS, 1); err != nil {
		return fmt.Errorf("PACKET_LOSS: %w", err)
	}
	if cfg.QdiscBypass {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1); err != nil {
			return fmt.Errorf("PACKET_QDISC_BYPASS: %w", err)
		}
	}
	rxReq := unix.TpacketReq3{
		Block_size:     uint32(cfg.BlockSize),
		Block_nr:       uint32(cfg.NumBlocks),
		Frame_size:     uint32(cfg.FrameSize),
		Frame_nr:       uint32(cfg.BlockSize / cfg.FrameSize * cfg.NumBlocks),
		Retire_blk_tov: uint32(cfg.RetireTimeout / time.Millisecond),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &rxReq); err != nil {
		return fmt.Errorf("PACKET_RX_RING %+v: %w", rxReq, err)
	}
	// Tx slots never straddle a block: blocks are the slot rounded up to pages.
	page := os.Getpagesize()
	tx.frameSize = cfg.FrameSize
	tx.blockSize = (cfg.FrameSize + page - 1) / page * page
	tx.perBlock = tx.blockSize / tx.frameSize
	txBlocks := (cfg.TxFrames + tx.perBlock - 1) / tx.perBlock
	tx.frames = txBlocks * tx.perBlock
	txReq := unix.TpacketReq3{ // retire timeout, priv and features must be 0 for tx
		Block_size: uint32(tx.blockSize),
		Block_nr:   uint32(txBlocks),
		Frame_size: uint32(tx.frameSize),
		Frame_nr:   uint32(tx.frames),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_TX_RING, &txReq); err != nil {
		return fmt.Errorf("PACKET_TX_RING %+v: %w", txReq, err)
	}
	rxLen := cfg.BlockSize * cfg.NumBlocks
	mem, err := unix.Mmap(fd, 0, rxLen+tx.blockSize*txBlocks,
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	rx.ring = mem
	tx.ring = mem[rxLen:]
	tx.fd = fd

	if cfg.Queues == 1 {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
			return fmt.Errorf("PACKET_IGNORE_OUTGOING: %w", err)
		}
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: p.ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if q == 0 && !cfg.NoPromisc {
		mr := unix.PacketMreq{Ifindex: int32(p.ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mr); err != nil {
			return fmt.Errorf("PACKET_MR_PROMISC: %w", err)
		}
	}
	if cfg.Queues > 1 {
		// The first socket asks the kernel for a group id no one else
		// uses; the others join that group.
		mode := unix.PACKET_FANOUT_HASH | unix.PACKET_FANOUT_FLAG_IGNORE_OUTGOING
		arg := mode << 16
		if q == 0 {
			arg |= unix.PACKET_FANOUT_FLAG_UNIQUEID << 16
		} else {
			id, err := unix.GetsockoptInt(p.rx[0].fd, unix.SOL_PACKET, unix.PACKET_FANOUT)
			if err != nil {
				return fmt.Errorf("PACKET_FANOUT id: %w", err)
			}
			arg |= id & 0xffff
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, arg); err != nil {
			return fmt.Errorf("PACKET_FANOUT: %w", err)
		}
	}
	return nil
}

// Name is the configured port name.
func (p *Port) Name() string { return p.name }

// Interface is the Linux interface name.
func (p *Port) Interface() string { return p.ifname }

// LinkType is always Ethernet.
func (p *Port) LinkType() pkt.LinkType { return pkt.LinkEthernet }

// MAC is the port's Ethernet address.
func (p *Port) MAC() [6]byte { return p.mac }

// MTU is the largest IP packet the port sends, without L2 header.
func (p *Port) MTU() int { return p.mtu }

// RxQueues is the number of rx queues.
func (p *Port) RxQueues() int { return len(p.rx) }

// TxQueues is the number of tx queues.
func (p *Port) TxQueues() int { return len(p.tx) }

// Offsets into struct tpacket_block_desc (its tpacket_hdr_v1 starts at 8).
const (
	bdStatus   = 8
	bdNumPkts  = 12
	bdFirstPkt = 16
)

// RxBurst copies up to len(bufs) frames from queue q's ring into Bufs and
// returns how many. It looks at no more than len(bufs) frames per call.
func (p *Port) RxBurst(q int, bufs []*pkt.Buf) int {
	r := &p.rx[q]
	n, bytes, seen := 0, 0, 0
	nobuf, trunc := 0, 0
	for seen < len(bufs) {
		if r.left == 0 && !r.nextBlock() {
			break
		}
		if r.left == 0 { // an empty block, already handed back
			continue
		}
		fo := r.off
		h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&r.ring[fo]))
		seen++
		if b := r.frame(fo, h, &nobuf, &trunc); b != nil {
			b.Meta.RxQueue = uint16(q)
			bufs[n] = b
			n++
			bytes += b.Len()
		}
		r.left--
		if r.left == 0 {
			r.releaseBlock()
		} else {
			r.off += int(h.Next_offset)
		}
	}
	p.ctr.AddRx(n, bytes)
	if nobuf > 0 {
		p.ctr.AddRxNoBuf(nobuf)
	}
	if trunc > 0 {
		p.ctr.AddRxTruncated(trunc)
	}
	return n
}

// nextBlock starts reading block cur if the kernel has handed it over.
func (r *rxQueue) nextBlock() bool {
	base := r.cur * r.blockSize
	if atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.ring[base+bdStatus])))&unix.TP_STATUS_USER == 0 {
		return false
	}
	r.left = int(*(*uint32)(unsafe.Pointer(&r.ring[base+bdNumPkts])))
	r.off = base + int(*(*uint32)(unsafe.Pointer(&r.ring[base+bdFirstPkt])))
	if r.left == 0 {
		r.releaseBlock()
	}
	return true
}

// releaseBlock hands block cur back to the kernel and moves on.
func (r *rxQueue) releaseBlock() {
	base := r.cur * r.blockSize
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&r.ring[base+bdStatus])), unix.TP_STATUS_KERNEL)
	r.left = 0
	if r.cur++; r.cur == r.numBlocks {
		r.cur = 0
	}
}

// frame copies the frame at ring offset fo into a Buf, or drops it.
func (r *rxQueue) frame(fo int, h *unix.Tpacket3Hdr, nobuf, trunc *int) *pkt.Buf {
	// struct sockaddr_ll follows the header; sll_pkttype is its byte 10.
	if r.ring[fo+tpHdrLen+10] == unix.PACKET_OUTGOING {
		return nil
	}
	snap := int(h.Snaplen)
	if snap < int(h.Len) || snap < ethHdrLen {
		*trunc++
		return nil
	}
	vlan := h.Status&unix.TP_STATUS_VLAN_VALID != 0
	size := snap
	if vlan {
		size += vlanHdrLen
	}
	b := r.cache.Get()
	if b == nil {
		*nobuf++
		return nil
	}
	mem, off := b.Raw()
	if off+size > len(mem) {
		r.cache.Put(b)
		*trunc++
		return nil
	}
	src := r.ring[fo+int(h.Mac) : fo+int(h.Mac)+snap]
	dst := mem[off : off+size]
	if vlan {
		tpid := uint16(unix.ETH_P_8021Q)
		if h.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 && h.Hv1.Vlan_tpid != 0 {
			tpid = h.Hv1.Vlan_tpid
		}
		copy(dst[:12], src[:12])
		binary.BigEndian.PutUint16(dst[12:], tpid)
		binary.BigEndian.PutUint16(dst[14:], uint16(h.Hv1.Vlan_tci))
		copy(dst[16:], src[12:])
	} else {
		copy(dst, src)
	}
	b.SetData(off, size)
	return b
}

// TxBurst copies frames into queue q's tx ring, kicks the kernel once and
// returns how many it took. It frees them. Frames too short or longer than
// MTU plus Ethernet (and VLAN) header are taken, freed and counted as
// TxErrors; when the ring is full it takes fewer and counts TxFull.
func (p *Port) TxBurst(q int, bufs []*pkt.Buf) int {
	t := &p.tx[q]
	t.mu.Lock()
	n, sent, bytes, bad := 0, 0, 0, 0
	kick := false
	for _, b := range bufs {
		fo := t.slot(t.head)
		h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&t.ring[fo]))
		if st := atomic.LoadUint32(&h.Status); st != unix.TP_STATUS_AVAILABLE {
			// SEND_REQUEST: queued but not yet sent (a failed kick).
			kick = kick || st == unix.TP_STATUS_SEND_REQUEST
			break
		}
		data := b.Bytes()
		if !p.txLenOK(data) || tpHdrLen+len(data) > t.frameSize {
			bad++
		} else {
			copy(t.ring[fo+tpHdrLen:], data)
			h.Len = uint32(len(data))
			h.Snaplen = uint32(len(data))
			h.Next_offset = 0
			atomic.StoreUint32(&h.Status, unix.TP_STATUS_SEND_REQUEST)
			if t.head++; t.head == t.frames {
				t.head = 0
			}
			sent++
			bytes += len(data)
		}
		t.cache.Put(b)
		n++
	}
	kickErr := false
	if sent > 0 || kick {
		err := unix.Sendto(t.fd, nil, unix.MSG_DONTWAIT, nil)
		kickErr = err != nil && err != unix.EAGAIN
	}
	t.mu.Unlock()
	p.ctr.AddTx(sent, bytes)
	if bad > 0 || kickErr {
		p.ctr.AddTxErrors(bad + btoi(kickErr))
	}
	if n < len(bufs) {
		p.ctr.AddTxFull(len(bufs) - n)
	}
	return n
}

// txLenOK applies the kernel's size rule: MTU plus Ethernet header, plus a
// VLAN header if the frame is tagged.
func (p *Port) txLenOK(f []byte) bool {
	if len(f) < ethHdrLen {
		return false
	}
	max := p.mtu + ethHdrLen
	if et := binary.BigEndian.Uint16(f[12:]); et == unix.ETH_P_8021Q || et == unix.ETH_P_8021AD {
		max += vlanHdrLen
	}
	return len(f) <= max
}

// slot returns the mapping offset of tx slot i.
func (t *txQueue) slot(i int) int {
	return i/t.perBlock*t.blockSize + i%t.perBlock*t.frameSize
}

// Wait blocks until queue q has frames to read or timeout passes, and
// reports whether it has; timeout < 0 waits indefinitely. Only the
// queue's poller may call it.
func (p *Port) Wait(q int, timeout time.Duration) bool {
	r := &p.rx[q]
	if r.left > 0 || r.ready() {
		return true
	}
	return pollIn(r.fd, timeout)
}

// ready reports whether block cur belongs to user space.
func (r *rxQueue) ready() bool {
	base := r.cur * r.blockSize
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.ring[base+bdStatus])))&unix.TP_STATUS_USER != 0
}

// Stats returns the port's counters. Frames the kernel dropped for want of
// ring space (PACKET_STATISTICS tp_drops, read and cleared here) are added
// to RxErrors.
func (p *Port) Stats() stats.PortSnapshot {
	p.mu.Lock()
	if !p.closed {
		for i := range p.rx {
			if st, err := unix.GetsockoptTpacketStatsV3(p.rx[i].fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil && st.Drops > 0 {
				p.ctr.AddRxErrors(int(st.Drops))
			}
		}
	}
	p.mu.Unlock()
	return p.ctr.Snapshot()
}

// Close unmaps the rings, closes the sockets and returns cached Bufs to
// their pools. Call it after the pollers have stopped.
func (p *Port) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var errs []error
	for i := range p.rx {
		r, t := &p.rx[i], &p.tx[i]
		if r.ring != nil {
			errs = append(errs, unix.Munmap(r.ring))
			r.ring, t.ring = nil, nil
		}
		errs = append(errs, unix.Close(r.fd))
		r.cache.Flush()
		t.cache.Flush()
	}
	return errors.Join(errs...)
}

// pollIn poll(2)s fd for input.
func pollIn(fd int, timeout time.Duration) bool {
	fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	n, err := unix.Ppoll(fds[:], ts, nil)
	return err == nil && n > 0 && fds[0].Revents&unix.POLLIN != 0
}

// ifreq is struct ifreq: a name and a 24-byte union.
type ifreq struct {
	name [unix.IFNAMSIZ]byte
	data [24]byte
}

func ioctl(fd int, req uint, ifr *ifreq) error {
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(ifr))); e != 0 {
		return e
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
