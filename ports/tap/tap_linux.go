package tap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// Port is a TUN/TAP port with one rx and one tx queue.
type Port struct {
	name    string
	ifname  string
	link    pkt.LinkType
	mac     [6]byte
	hostMAC [6]byte
	mtu     int
	fd      int
	ctr     stats.Port

	rxCache *pkt.Cache // used only by the rx poller
	_       [64]byte

	txMu    sync.Mutex // serialises TxBurst callers
	txCache *pkt.Cache

	closeMu sync.Mutex
	closed  bool
}

// Open creates the TUN/TAP interface in the calling thread's network
// namespace and returns its port; received packets go into Bufs of pool.
func Open(cfg Config, pool *pkt.Pool) (*Port, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if pool == nil {
		return nil, errors.New("tap: no pool")
	}
	l2 := 0
	link, flags := pkt.LinkRawIP, uint16(unix.IFF_TUN)
	if cfg.Mode == ModeTAP {
		l2 = 18 // Ethernet + VLAN
		link, flags = pkt.LinkEthernet, unix.IFF_TAP
	}
	if pkt.Headroom+cfg.MTU+l2 >= pool.BufSize() {
		return nil, fmt.Errorf("tap: pool %s buffers (%d B) too small for MTU %d after %d B headroom",
			pool.Name(), pool.BufSize(), cfg.MTU, pkt.Headroom)
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("tap: %w", err)
	}
	p := &Port{
		name: cfg.Name, link: link, mtu: cfg.MTU, fd: fd,
		rxCache: pool.NewCache(), txCache: pool.NewCache(),
	}
	if link == pkt.LinkEthernet {
		p.mac = cfg.MAC
	}
	if err := p.setup(cfg, flags); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// setup creates the interface and configures MTU, addresses and state.
func (p *Port) setup(cfg Config, flags uint16) error {
	var ifr ifreq
	copy(ifr.name[:], cfg.Interface)
	binary.NativeEndian.PutUint16(ifr.data[:], flags|unix.IFF_NO_PI)
	if err := ioctl(p.fd, unix.TUNSETIFF, &ifr); err != nil {
		return fmt.Errorf("tap: TUNSETIFF %s: %w", cfg.Interface, err)
	}
	p.ifname = unix.ByteSliceToString(ifr.name[:])

	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("tap: %w", err)
	}
	defer unix.Close(s)
	clear(ifr.data[:])
	binary.NativeEndian.PutUint32(ifr.data[:], uint32(cfg.MTU))
	if err := ioctl(s, unix.SIOCSIFMTU, &ifr); err != nil {
		return fmt.Errorf("tap: %s MTU %d: %w", p.ifname, cfg.MTU, err)
	}
	if p.link == pkt.LinkEthernet {
		if err := ioctl(s, unix.SIOCGIFHWADDR, &ifr); err != nil {
			return fmt.Errorf("tap: %s hwaddr: %w", p.ifname, err)
		}
		copy(p.hostMAC[:], ifr.data[2:8])
	}
	if len(cfg.Addresses) > 0 {
		if err := ioctl(s, unix.SIOCGIFINDEX, &ifr); err != nil {
			return fmt.Errorf("tap: %s index: %w", p.ifname, err)
		}
		index := binary.NativeEndian.Uint32(ifr.data[:])
		for _, a := range cfg.Addresses {
			if err := addAddr(index, a); err != nil {
				return fmt.Errorf("tap: %s address %s: %w", p.ifname, a, err)
			}
		}
	}
	if cfg.Up {
		if err := ioctl(s, unix.SIOCGIFFLAGS, &ifr); err != nil {
			return fmt.Errorf("tap: %s flags: %w", p.ifname, err)
		}
		f := binary.NativeEndian.Uint16(ifr.data[:]) | unix.IFF_UP
		binary.NativeEndian.PutUint16(ifr.data[:], f)
		if err := ioctl(s, unix.SIOCSIFFLAGS, &ifr); err != nil {
			return fmt.Errorf("tap: %s up: %w", p.ifname, err)
		}
	}
	return nil
}

// Name is the configured port name.
func (p *Port) Name() string { return p.name }

// Interface is the kernel interface name.
func (p *Port) Interface() string { return p.ifname }

// LinkType is Ethernet for tap, raw IP for tun.
func (p *Port) LinkType() pkt.LinkType { return p.link }

// MAC is the port's own (router-side) Ethernet address; zero for tun.
func (p *Port) MAC() [6]byte { return p.mac }

// HostMAC is the kernel interface's Ethernet address, the destination of
// frames for the host; zero for tun.
func (p *Port) HostMAC() [6]byte { return p.hostMAC }

// MTU is the largest IP packet the port sends, without L2 header.
func (p *Port) MTU() int { return p.mtu }

// RxQueues is 1.
func (p *Port) RxQueues() int { return 1 }

// TxQueues is 1; TxBurst is safe for concurrent callers.
func (p *Port) TxQueues() int { return 1 }

// RxBurst reads up to len(bufs) packets the host sent, one read(2) each,
// stopping when none is left. q must be 0.
func (p *Port) RxBurst(q int, bufs []*pkt.Buf) int {
	n, bytes, errs, trunc := 0, 0, 0, 0
	for n < len(bufs) {
		b := p.rxCache.Get()
		if b == nil {
			break // left in the kernel's queue; the pool counts the miss
		}
		mem, off := b.Raw()
		k, err := unix.Read(p.fd, mem[off:])
		if err != nil || k <= 0 {
			p.rxCache.Put(b)
			if err != unix.EAGAIN && err != unix.EINTR {
				errs++
			}
			break
		}
		if k == len(mem)-off { // filled the buffer: probably cut short
			p.rxCache.Put(b)
			trunc++
			continue
		}
		b.SetData(off, k)
		bufs[n] = b
		n++
		bytes += k
	}
	p.ctr.AddRx(n, bytes)
	if errs > 0 {
		p.ctr.AddRxErrors(errs)
	}
	if trunc > 0 {
		p.ctr.AddRxTruncated(trunc)
	}
	return n
}

// TxBurst writes bufs to the host, one write(2) each, and frees them.
// Packets the kernel refuses are taken, freed and counted as TxErrors.
func (p *Port) TxBurst(q int, bufs []*pkt.Buf) int {
	n, sent, bytes, errs := 0, 0, 0, 0
	p.txMu.Lock()
	for _, b := range bufs {
		_, err := unix.Write(p.fd, b.Bytes())
		if err == unix.EAGAIN || err == unix.EINTR {
			break
		}
		if err != nil {
			errs++
		} else {
			sent++
			bytes += b.Len()
		}
		p.txCache.Put(b)
		n++
	}
	p.txMu.Unlock()
	p.ctr.AddTx(sent, bytes)
	if errs > 0 {
		p.ctr.AddTxErrors(errs)
	}
	if n < len(bufs) {
		p.ctr.AddTxFull(len(bufs) - n)
	}
	return n
}

// Wait blocks until the host has sent a packet or timeout passes, and
// reports whether one is ready; timeout < 0 waits indefinitely. q must be 0.
func (p *Port) Wait(q int, timeout time.Duration) bool {
	fds := [1]unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLIN}}
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	n, err := unix.Ppoll(fds[:], ts, nil)
	return err == nil && n > 0 && fds[0].Revents&unix.POLLIN != 0
}

// Stats returns the port's counters.
func (p *Port) Stats() stats.PortSnapshot { return p.ctr.Snapshot() }

// Close closes the descriptor, which deletes the interface, and returns
// cached Bufs to their pools. Call it after the pollers have stopped.
func (p *Port) Close() error {
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	p.rxCache.Flush()
	p.txMu.Lock()
	p.txCache.Flush()
	p.txMu.Unlock()
	return unix.Close(p.fd)
}

// addAddr adds pfx to interface index with an rtnetlink RTM_NEWADDR
// request. IPv6 addresses skip duplicate address detection (IFA_F_NODAD):
// the interface is the host's private link to the router.
func addAddr(index uint32, pfx netip.Prefix) error {
	addr := pfx.Addr().Unmap()
	family, flags := byte(unix.AF_INET), byte(0)
	if addr.Is6() {
		family, flags = unix.AF_INET6, unix.IFA_F_NODAD
	}
	a := addr.AsSlice()
	attr := func(m []byte, typ uint16) []byte {
		m = binary.NativeEndian.AppendUint16(m, uint16(unix.SizeofRtAttr+len(a)))
		m = binary.NativeEndian.AppendUint16(m, typ)
		return append(m, a...) // 4 or 16 bytes: already aligned
	}
	m := make([]byte, unix.SizeofNlMsghdr, 64)
	m = append(m, family, byte(pfx.Bits()), flags, unix.RT_SCOPE_UNIVERSE)
	m = binary.NativeEndian.AppendUint32(m, index)
	m = attr(m, unix.IFA_LOCAL)
	m = attr(m, unix.IFA_ADDRESS)
	binary.NativeEndian.PutUint32(m[0:], uint32(len(m)))
	binary.NativeEndian.PutUint16(m[4:], unix.RTM_NEWADDR)
	binary.NativeEndian.PutUint16(m[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_EXCL)
	binary.NativeEndian.PutUint32(m[8:], 1) // sequence

	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	kernel := &unix.SockaddrNetlink{Family: unix.AF_NETLINK}
	if err := unix.Sendto(s, m, 0, kernel); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	for {
		n, _, err := unix.Recvfrom(s, buf, 0)
		if err != nil {
			return err
		}
		for r := buf[:n]; len(r) >= unix.SizeofNlMsghdr; {
			l := int(binary.NativeEndian.Uint32(r))
			if l < unix.SizeofNlMsghdr || l > len(r) {
				return errors.New("malformed netlink reply")
			}
			if binary.NativeEndian.Uint16(r[4:]) == unix.NLMSG_ERROR && l >= unix.SizeofNlMsghdr+4 {
				if e := int32(binary.NativeEndian.Uint32(r[unix.SizeofNlMsghdr:])); e != 0 {
					return unix.Errno(-e)
				}
				return nil
			}
			r = r[min(len(r), (l+unix.NLMSG_ALIGNTO-1)&^(unix.NLMSG_ALIGNTO-1)):]
		}
	}
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
