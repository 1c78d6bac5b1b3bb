package keyserver

import (
	"net/netip"
	"syscall"
	"time"

	"github.com/fastipsec/fastipsec/ctrl"
	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// protoOf maps sadb_msg_satype to the SA's protocol.
func protoOf(t pfkey.SAType) (sad.Proto, error) {
	switch t {
	case pfkey.SATypeESP:
		return sad.ProtoESP, nil
	case pfkey.SATypeAH:
		return sad.ProtoAH, nil
	case pfkey.SATypeIPComp:
		return sad.ProtoIPComp, nil
	case pfkey.SATypeUnspec:
		return 0, pfkey.Errorf(syscall.EINVAL, "SA type required")
	}
	return 0, pfkey.Errorf(syscall.EOPNOTSUPP, "SA type %d", t)
}

// satypeOf maps an SA's protocol to sadb_msg_satype.
func satypeOf(p sad.Proto) pfkey.SAType {
	switch p {
	case sad.ProtoESP:
		return pfkey.SATypeESP
	case sad.ProtoAH:
		return pfkey.SATypeAH
	case sad.ProtoIPComp:
		return pfkey.SATypeIPComp
	}
	return pfkey.SATypeUnspec
}

// saIndex reads what names SAs in a message (key.c's secasindex): the
// protocol from the SA type and the two addresses.
func saIndex(m *pfkey.Msg) (proto sad.Proto, src, dst netip.Addr, err error) {
	if proto, err = protoOf(m.SAType); err != nil {
		return proto, src, dst, err
	}
	src, dst, err = addrs(m)
	return proto, src, dst, err
}

// addrs returns the message's source and destination addresses; both
// are required.
func addrs(m *pfkey.Msg) (src, dst netip.Addr, err error) {
	if m.Src == nil || m.Dst == nil {
		return src, dst, pfkey.Errorf(syscall.EINVAL, "source and destination addresses required")
	}
	src, dst = m.Src.Addr.Addr().Unmap(), m.Dst.Addr.Addr().Unmap()
	if src.Is4() != dst.Is4() {
		return src, dst, pfkey.Errorf(syscall.EINVAL, "address families differ")
	}
	return src, dst, nil
}

// saConfig builds the SA an ADD or UPDATE describes (key.c key_setsaval).
func saConfig(d pfkey.Dialect, m *pfkey.Msg) (sad.Config, error) {
	var c sad.Config
	proto, src, dst, err := saIndex(m)
	if err != nil {
		return c, err
	}
	if m.SA == nil {
		return c, pfkey.Errorf(syscall.EINVAL, "SA extension required")
	}
	c.Src, c.Dst = src, dst
	c.Proto, c.SPI, c.Seq, c.PID = proto, m.SA.SPI, m.Seq, m.PID
	if proto == sad.ProtoIPComp {
		c.SPI &= 0xffff
	}
	if m.SA2 != nil {
		switch m.SA2.Mode {
		case pfkey.ModeAny, pfkey.ModeTransport, pfkey.ModeTunnel:
			c.Mode = sad.Mode(m.SA2.Mode)
		default:
			return c, pfkey.Errorf(syscall.EINVAL, "mode %d", m.SA2.Mode)
		}
		c.ReqID = m.SA2.ReqID
	}
	switch proto {
	case sad.ProtoESP:
		enc, ok := pfkey.EncAlgFromWire(d, m.SA.Encrypt)
		if !ok || enc == alg.EncInvalid {
			return c, pfkey.Errorf(syscall.EINVAL, "encryption algorithm %d", m.SA.Encrypt)
		}
		c.Enc = enc
		fallthrough
	case sad.ProtoAH:
		auth, ok := pfkey.AuthAlgFromWire(d, m.SA.Auth)
		if auth == alg.AuthInvalid {
			auth = alg.AuthNull
		}
		if !ok || proto == sad.ProtoAH && auth == alg.AuthNull {
			return c, pfkey.Errorf(syscall.EINVAL, "authentication algorithm %d", m.SA.Auth)
		}
		c.Auth = auth
		if proto == sad.ProtoAH && m.SA.Encrypt != pfkey.EAlgNone {
			return c, pfkey.Errorf(syscall.EINVAL, "AH takes no encryption algorithm")
		}
	case sad.ProtoIPComp:
		comp, ok := pfkey.CompAlgFromWire(d, m.SA.Encrypt)
		if !ok {
			return c, pfkey.Errorf(syscall.EINVAL, "compression algorithm %d", m.SA.Encrypt)
		}
		c.Comp = comp
		// The CPI on the wire: the SPI itself with FreeBSD's RAWCPI flag
		// (setkey -R), else the well-known CPI; Linux always sends the SPI.
		c.RawCPI = d == pfkey.Linux || m.SA.Flags&pfkey.SAFlagRawCPI != 0
	}
	if m.EncKey != nil {
		if proto != sad.ProtoESP {
			return c, pfkey.Errorf(syscall.EINVAL, "encryption key for %s", proto)
		}
		c.EncKey = m.EncKey.Data
	}
	if m.AuthKey != nil {
		if proto == sad.ProtoIPComp {
			return c, pfkey.Errorf(syscall.EINVAL, "authentication key for ipcomp")
		}
		c.AuthKey = m.AuthKey.Data
	}
	c.ReplayWindow = m.ReplayWindow(d)
	c.ESN = d == pfkey.FreeBSD && m.SA.Flags&pfkey.SAFlagESN != 0
	if m.NATTType != nil && m.NATTType.Type != 0 {
		if m.NATTSport == nil || m.NATTDport == nil {
			return c, pfkey.Errorf(syscall.EINVAL, "NAT-T needs both ports")
		}
		c.NATT, c.NATTSport, c.NATTDport = true, m.NATTSport.Port, m.NATTDport.Port
		if m.NATTOAI != nil {
			c.NATOAi = m.NATTOAI.Addr.Addr()
		}
		if m.NATTOAR != nil {
			c.NATOAr = m.NATTOAR.Addr.Addr()
		}
	}
	c.Hard, c.Soft = lifetime(m.LifetimeHard), lifetime(m.LifetimeSoft)
	return c, nil
}

// lifetime maps sadb_lifetime limits (allocations count packets, as in
// both kernels).
func lifetime(l *pfkey.Lifetime) sad.Lifetime {
	if l == nil {
		return sad.Lifetime{}
	}
	return sad.Lifetime{Bytes: l.Bytes, Packets: uint64(l.Allocations),
		AddTime: time.Duration(l.AddTime) * time.Second, UseTime: time.Duration(l.UseTime) * time.Second}
}

func wireLifetime(l sad.Lifetime) pfkey.Lifetime {
	return pfkey.Lifetime{Allocations: uint32(min(l.Packets, 1<<32-1)), Bytes: l.Bytes,
		AddTime: uint64(l.AddTime / time.Second), UseTime: uint64(l.UseTime / time.Second)}
}

// address is an SA endpoint as key.c reports it: full prefix, any protocol.
func address(a netip.Addr) pfkey.Address {
	return pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: uint8(a.BitLen()), Addr: netip.AddrPortFrom(a, 0)}
}

// saMsg describes sa as GET, DUMP and EXPIRE do (key_setdumpsa), with keys
// when keys is set; LIFETIME_CURRENT always (strongSwan relies on it).
func saMsg(d pfkey.Dialect, h pfkey.Header, sa *sad.SA, keys bool) *pfkey.Msg {
	var b saBuf
	return b.fill(d, h, sa, keys)
}

// saBuf holds a described SA's extensions, so a dump reuses one set for
// every entry. The keys point into the SA (Encode copies them): encode
// the message before the SA can be wiped.
type saBuf struct {
	m                    pfkey.Msg
	sa                   pfkey.SA
	sa2                  pfkey.SA2
	hard, soft, cur      pfkey.Lifetime
	src, dst, oai, oar   pfkey.Address
	authKey, encKey      pfkey.Key
	nattType             pfkey.NATTType
	nattSport, nattDport pfkey.NATTPort
}

func (b *saBuf) fill(d pfkey.Dialect, h pfkey.Header, sa *sad.SA, keys bool) *pfkey.Msg {
	h.SAType = satypeOf(sa.Proto)
	b.m = pfkey.Msg{Header: h}
	m := &b.m
	st := sa.State()
	b.sa = pfkey.SA{SPI: sa.SPI, State: pfkey.SAState(st), Auth: wireAuth(d, sa), Encrypt: wireEnc(d, sa)}
	m.SA = &b.sa
	m.SetReplayWindow(d, sa.ReplayWindow)
	if d == pfkey.FreeBSD && sa.ESN {
		m.SA.Flags |= pfkey.SAFlagESN
	}
	if d == pfkey.FreeBSD && sa.RawCPI {
		m.SA.Flags |= pfkey.SAFlagRawCPI
	}
	b.sa2 = pfkey.SA2{Mode: uint8(sa.Mode), ReqID: sa.ReqID, Sequence: uint32(sa.Seq())}
	m.SA2 = &b.sa2
	if !sa.Hard.IsZero() {
		b.hard = wireLifetime(sa.Hard)
		m.LifetimeHard = &b.hard
	}
	if !sa.Soft.IsZero() {
		b.soft = wireLifetime(sa.Soft)
		m.LifetimeSoft = &b.soft
	}
	b.src, b.dst = address(sa.Src), address(sa.Dst)
	m.Src, m.Dst = &b.src, &b.dst
	// A dead SA may be wiped at any moment after its grace period: send
	// no keys for it.
	if keys && st != sad.StateDead {
		if len(sa.AuthKey) > 0 {
			b.authKey = pfkey.Key{Bits: uint16(len(sa.AuthKey) * 8), Data: sa.AuthKey}
			m.AuthKey = &b.authKey
		}
		if len(sa.EncKey) > 0 {
			b.encKey = pfkey.Key{Bits: uint16(len(sa.EncKey) * 8), Data: sa.EncKey}
			m.EncKey = &b.encKey
		}
	}
	cur := sa.Counters()
	b.cur = pfkey.Lifetime{Allocations: uint32(min(cur.Packets, 1<<32-1)), Bytes: cur.Bytes,
		AddTime: uint64(max(cur.AddTime.Unix(), 0))}
	if !cur.UseTime.IsZero() {
		b.cur.UseTime = uint64(max(cur.UseTime.Unix(), 0))
	}
	m.LifetimeCurrent = &b.cur
	if sa.NATT {
		b.nattType = pfkey.NATTType{Type: pfkey.NATTEspInUDP}
		b.nattSport, b.nattDport = pfkey.NATTPort{Port: sa.NATTSport}, pfkey.NATTPort{Port: sa.NATTDport}
		m.NATTType, m.NATTSport, m.NATTDport = &b.nattType, &b.nattSport, &b.nattDport
		if sa.NATOAi.IsValid() {
			b.oai = address(sa.NATOAi)
			m.NATTOAI = &b.oai
		}
		if sa.NATOAr.IsValid() && d == pfkey.FreeBSD {
			b.oar = address(sa.NATOAr)
			m.NATTOAR = &b.oar
		}
	}
	return m
}

func ptr[T any](v T) *T { return &v }

// withoutKeys turns a request into the reply broadcast to everyone: keys
// wiped and dropped, errno 0. The request is not used afterwards.
func withoutKeys(m *pfkey.Msg) *pfkey.Msg {
	m.WipeKeys()
	m.Errno, m.AuthKey, m.EncKey = 0, nil, nil
	return m
}

// getSPI is SADB_GETSPI: a larval SA with a free SPI in the requested
// range; the reply goes to the requester only.
func (s *Server) getSPI(cl *client, m *pfkey.Msg) error {
	proto, src, dst, err := saIndex(m)
	if err != nil {
		return err
	}
	var lo, hi uint32
	if m.SPIRange != nil {
		lo, hi = m.SPIRange.Min, m.SPIRange.Max
		if lo > hi {
			return pfkey.Errorf(syscall.EINVAL, "SPI range %#x-%#x", lo, hi)
		}
		if lo == 0 && hi == 0 {
			hi = 0xffffffff
		}
	}
	var mode sad.Mode
	var reqid uint32
	if m.SA2 != nil {
		mode, reqid = sad.Mode(m.SA2.Mode), m.SA2.ReqID
		if mode > sad.ModeTunnel {
			return pfkey.Errorf(syscall.EINVAL, "mode %d", m.SA2.Mode)
		}
	}
	sa, err := s.m.SAD.GetSPI(proto, src, dst, lo, hi, reqid, mode, s.now())
	if err != nil {
		return err
	}
	s.m.AcquireAnswered(m.Seq)
	out := &pfkey.Msg{Header: reply(m), SA: &pfkey.SA{SPI: sa.SPI}, Src: m.Src, Dst: m.Dst}
	s.send(cl, toOne, 0, out, false)
	return nil
}

// update is SADB_UPDATE: a larval SA (from GETSPI) becomes mature.
func (s *Server) update(cl *client, m *pfkey.Msg) error {
	cfg, err := saConfig(cl.d(), m)
	if err != nil {
		return err
	}
	sa, err := sad.New(cfg, s.now())
	if err != nil {
		return err
	}
	old, err := s.m.SAD.Update(sa)
	if err != nil {
		sa.Wipe()
		return err
	}
	s.m.SAD.Retire(old)
	s.m.AcquireAnswered(m.Seq)
	s.send(cl, toAll, 0, withoutKeys(m), false)
	return nil
}

// add is SADB_ADD.
func (s *Server) add(cl *client, m *pfkey.Msg) error {
	sa, err := s.newSA(cl, m)
	if err != nil {
		return err
	}
	if err := s.m.SAD.Add(sa); err != nil {
		sa.Wipe()
		return err
	}
	s.added(cl, m)
	return nil
}

func (s *Server) newSA(cl *client, m *pfkey.Msg) (*sad.SA, error) {
	cfg, err := saConfig(cl.d(), m)
	if err != nil {
		return nil, err
	}
	if cfg.Proto != sad.ProtoIPComp && len(cfg.EncKey) == 0 && len(cfg.AuthKey) == 0 {
		return nil, pfkey.Errorf(syscall.EINVAL, "ADD without keys")
	}
	return sad.New(cfg, s.now())
}

func (s *Server) added(cl *client, m *pfkey.Msg) {
	s.m.AcquireAnswered(m.Seq)
	s.send(cl, toAll, 0, withoutKeys(m), false)
}

// addItem is one SADB_ADD of a batch.
type addItem struct {
	m   *pfkey.Msg
	h   pfkey.Header
	sa  *sad.SA
	err error
}

// addBatch applies a run of SADB_ADDs: decoded (into the client's arena)
// and keyed first, then installed under one hold of the SAD's lock, then
// answered in order. Nothing keeps a decoded ADD past its reply.
func (s *Server) addBatch(cl *client, msgs [][]byte) {
	items := cl.adds[:0]
	defer func() {
		clear(items)
		cl.adds = items[:0]
		cl.arena.Reset()
	}()
	for _, b := range msgs {
		m, h, err := s.decodeIn(cl, b, &cl.arena)
		it := addItem{m: m, h: h, err: err}
		if err == nil {
			it.h = m.Header
			it.sa, it.err = s.newSA(cl, m)
		}
		items = append(items, it)
	}
	s.m.SAD.Apply(func(tx *sad.Txn) error {
		for i := range items {
			if it := &items[i]; it.sa != nil {
				it.err = tx.Add(it.sa)
			}
		}
		return nil
	})
	for _, it := range items {
		if it.err != nil {
			if it.sa != nil {
				it.sa.Wipe()
			}
			s.fail(cl, it.h, it.err)
		} else {
			s.added(cl, it.m)
		}
		if it.m != nil {
			wipeKeys(it.m)
		}
	}
}

// delete is SADB_DELETE: one SA with the SA extension, else every SA of
// the type between the two addresses (key_delete_all).
func (s *Server) delete(cl *client, m *pfkey.Msg) error {
	proto, src, dst, err := saIndex(m)
	if err != nil {
		return err
	}
	if m.SA == nil {
		gone := s.m.SAD.DeleteAll(proto, src, dst)
		if len(gone) == 0 {
			return pfkey.Errorf(syscall.ENOENT, "no SA")
		}
		for _, sa := range gone {
			s.m.SAD.Retire(sa)
		}
		s.send(cl, toAll, 0, &pfkey.Msg{Header: reply(m), Src: m.Src, Dst: m.Dst}, false)
		return nil
	}
	spi := m.SA.SPI
	if proto == sad.ProtoIPComp {
		spi &= 0xffff
	}
	sa, err := s.m.SAD.Delete(proto, src, dst, spi)
	if err != nil {
		return err
	}
	s.m.SAD.Retire(sa)
	s.send(cl, toAll, 0, &pfkey.Msg{Header: reply(m), SA: m.SA, Src: m.Src, Dst: m.Dst}, false)
	return nil
}

// get is SADB_GET: the SA with keys and current lifetime, to the
// requester only.
func (s *Server) get(cl *client, m *pfkey.Msg) error {
	proto, src, dst, err := saIndex(m)
	if err != nil {
		return err
	}
	if m.SA == nil {
		return pfkey.Errorf(syscall.EINVAL, "SA extension required")
	}
	spi := m.SA.SPI
	if proto == sad.ProtoIPComp {
		spi &= 0xffff
	}
	sa, ok := s.m.SAD.Get(proto, src, dst, spi)
	if !ok {
		return pfkey.Errorf(syscall.ESRCH, "no SA")
	}
	var b saBuf
	s.send(cl, toOne, 0, b.fill(cl.d(), reply(m), sa, true), true)
	return nil
}

// flush is SADB_FLUSH: every SA of the type (all when unspecified).
func (s *Server) flush(cl *client, m *pfkey.Msg) error {
	var proto sad.Proto
	if m.SAType != pfkey.SATypeUnspec {
		p, err := protoOf(m.SAType)
		if err != nil {
			return err
		}
		proto = p
	}
	for _, sa := range s.m.SAD.Flush(proto) {
		s.m.SAD.Retire(sa)
	}
	s.send(cl, toAll, 0, &pfkey.Msg{Header: reply(m)}, false)
	return nil
}

// dump is SADB_DUMP: a snapshot of the SAs of the type, one message each
// with seq counting down to 0, at the pace the client reads.
func (s *Server) dump(cl *client, m *pfkey.Msg) error {
	var proto sad.Proto
	if m.SAType != pfkey.SATypeUnspec {
		p, err := protoOf(m.SAType)
		if err != nil {
			return err
		}
		proto = p
	}
	var sas []*sad.SA
	s.m.SAD.Walk(func(sa *sad.SA) bool {
		if proto == 0 || sa.Proto == proto {
			sas = append(sas, sa)
		}
		return true
	})
	if len(sas) == 0 {
		return pfkey.Errorf(syscall.ENOENT, "no SA")
	}
	d := cl.d()
	var b saBuf
	for i, sa := range sas {
		if cl.c.Closed() {
			return nil // the client left: stop encoding for nobody
		}
		h := reply(m)
		h.Seq = uint32(len(sas) - 1 - i)
		s.send(cl, toOne, 0, b.fill(d, h, sa, true), true)
		sas[i] = nil
	}
	return nil
}

// register is SADB_REGISTER: the client receives ACQUIREs and EXPIREs of
// the type from now on; the SUPPORTED lists go to every registered client.
func (s *Server) register(cl *client, m *pfkey.Msg) error {
	if _, err := protoOf(m.SAType); err != nil {
		return err
	}
	if m.SAType >= 32 {
		return pfkey.Errorf(syscall.EINVAL, "SA type %d", m.SAType)
	}
	for {
		r := cl.registered.Load()
		if cl.registered.CompareAndSwap(r, r|1<<m.SAType) {
			break
		}
	}
	auth, enc := supported(cl.d())
	out := &pfkey.Msg{Header: reply(m), SupportedAuth: auth, SupportedEncrypt: enc}
	s.send(cl, toRegistered, m.SAType, out, false)
	return nil
}

// userAcquire is an ACQUIRE a keying daemon sends: with an errno and no
// extensions it reports a failed negotiation (the pending acquire keeps
// blocking until blockacq_lifetime); otherwise it goes to the registered
// clients (key_acquire2).
func (s *Server) userAcquire(cl *client, m *pfkey.Msg) error {
	if len(m.Order) == 0 && m.Errno != 0 {
		return nil
	}
	if _, err := protoOf(m.SAType); err != nil {
		return err
	}
	if _, _, err := addrs(m); err != nil {
		return err
	}
	if m.Proposal == nil {
		return pfkey.Errorf(syscall.EINVAL, "ACQUIRE without a proposal")
	}
	s.send(cl, toRegistered, m.SAType, withoutKeys(m), false)
	return nil
}

// expire sends SADB_EXPIRE for an SA crossing a lifetime (Manager
// listener, control goroutine) to the clients registered for its type.
func (s *Server) expire(sa *sad.SA, e sad.Expiry) {
	h := pfkey.Header{Version: pfkey.Version, Type: pfkey.MsgExpire, Seq: sa.Config.Seq}
	// Algorithm numbers differ by dialect: built per receiving dialect.
	s.sendBuilt(toRegistered, satypeOf(sa.Proto), func(d pfkey.Dialect) *pfkey.Msg {
		m := saMsg(d, h, sa, false)
		if e&sad.ExpireHard != 0 {
			m.LifetimeSoft = nil
			if m.LifetimeHard == nil {
				m.LifetimeHard = &pfkey.Lifetime{}
			}
		} else {
			m.LifetimeHard = nil
			if m.LifetimeSoft == nil {
				m.LifetimeSoft = &pfkey.Lifetime{}
			}
		}
		m.SA2.Sequence = 0
		return m
	})
}

// acquire sends SADB_ACQUIRE (Manager listener) to the clients registered
// for the request's type: the endpoints, the policy (its id tells the
// daemon which one) and a proposal.
func (s *Server) acquire(a ctrl.Acquire) {
	r := &a.Policy.Requests[a.Request]
	satype := satypeOf(r.Proto)
	s.sendBuilt(toRegistered, satype, func(d pfkey.Dialect) *pfkey.Msg {
		pol, err := wirePolicy(d, a.Policy)
		if err != nil {
			return nil
		}
		pol.Requests = nil
		pol.Type = pfkey.PolicyIPsec
		return &pfkey.Msg{
			Header:   pfkey.Header{Version: pfkey.Version, Type: pfkey.MsgAcquire, SAType: satype, Seq: a.Seq},
			Src:      ptr(address(a.Src)),
			Dst:      ptr(address(a.Dst)),
			Policy:   pol,
			Proposal: proposal(d, r.Proto),
		}
	})
}

// sendBuilt broadcasts a server-originated message built per dialect.
func (s *Server) sendBuilt(t target, satype pfkey.SAType, build func(pfkey.Dialect) *pfkey.Msg) {
	var msgs [3]*pfkey.Msg
	var encs [3][]byte
	get := func(d pfkey.Dialect) []byte {
		if encs[d] == nil {
			if msgs[d] = build(d); msgs[d] == nil {
				return nil
			}
			b, err := encode(d, msgs[d])
			if err != nil {
				return nil
			}
			encs[d] = b
		}
		return encs[d]
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, cl := range s.clients {
		if cl.promisc.Load() {
			if b := get(cl.d()); b != nil {
				cl.c.TrySend(promiscWrap(b))
			}
		}
		if t == toRegistered && !cl.isRegistered(satype) {
			continue
		}
		if b := get(cl.d()); b != nil {
			cl.c.TrySend(b)
		}
	}
}
