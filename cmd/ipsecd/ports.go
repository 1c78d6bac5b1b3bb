package main

import (
	"errors"
	"fmt"

	"github.com/fastipsec/fastipsec/config"
	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ports/afpacket"
	"github.com/fastipsec/fastipsec/ports/pcap"
	"github.com/fastipsec/fastipsec/ports/ring"
	"github.com/fastipsec/fastipsec/ports/tap"
)

// openPorts opens every configured port in order; on error it closes
// those already open. Ring pairs are made together.
func openPorts(cfg *config.Config, pool *pkt.Pool) ([]engine.Port, error) {
	ports := make([]engine.Port, len(cfg.Ports))
	index := make(map[string]int, len(cfg.Ports))
	for i, p := range cfg.Ports {
		index[p.Name] = i
	}
	closeAll := func() {
		for _, p := range ports {
			if p != nil {
				p.Close()
			}
		}
	}
	for i, pc := range cfg.Ports {
		if ports[i] != nil {
			continue // the peer of a ring pair opened earlier
		}
		where := fmt.Sprintf("%s:%d: port %s", cfg.File, pc.Line, pc.Name)
		var mac [6]byte
		if pc.HasMAC {
			mac = pc.MAC
		}
		switch pc.Driver {
		case "ring":
			rc := ring.Config{Name: pc.Name, MAC: mac, LinkType: pc.LinkType, MTU: pc.MTU, Queues: pc.Queues}
			if pc.Peer == "" {
				ports[i] = ring.New(rc)
				continue
			}
			j := index[pc.Peer]
			peer := cfg.Ports[j]
			var pmac [6]byte
			if peer.HasMAC {
				pmac = peer.MAC
			}
			a, b := ring.NewPair(rc, ring.Config{Name: peer.Name, MAC: pmac, LinkType: peer.LinkType, MTU: peer.MTU, Queues: peer.Queues})
			ports[i], ports[j] = a, b
		case "pcap":
			p, err := pcap.Open(pcap.Config{Name: pc.Name, Rx: pc.Rx, Tx: pc.Tx, LinkType: pc.LinkType, MTU: pc.MTU, MAC: mac}, pool)
			if err != nil {
				closeAll()
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			ports[i] = p
		case "afpacket":
			p, err := afpacket.Open(afpacket.Config{Name: pc.Name, Interface: pc.Interface, MTU: pc.MTU, Queues: pc.Queues, MAC: mac}, pool)
			if err != nil {
				closeAll()
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			ports[i] = p
		case "tap":
			tc := tap.Config{Name: pc.Name, Interface: pc.Interface, Mode: pc.Mode, MTU: pc.MTU, MAC: mac, Up: true}
			if pc.Implicit {
				// The implicit host-path port carries the router's own
				// addresses on the kernel side, so host programs (an IKE
				// daemon) can bind to them.
				for _, q := range cfg.Ports {
					for _, a := range q.Addresses {
						tc.Addresses = append(tc.Addresses, a)
					}
				}
			}
			p, err := tap.Open(tc, pool)
			if err != nil {
				closeAll()
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			ports[i] = p
		case "dpdk":
			closeAll()
			return nil, fmt.Errorf("%s: driver dpdk is not built into this binary", where)
		default:
			closeAll()
			return nil, fmt.Errorf("%s: unknown driver %q", where, pc.Driver)
		}
	}
	return ports, nil
}

// closePorts closes every port and joins the errors.
func closePorts(ports []engine.Port) error {
	var errs []error
	for _, p := range ports {
		if err := p.Close(); err != nil {
			errs = append(errs, fmt.Errorf("port %s: %w", p.Name(), err))
		}
	}
	return errors.Join(errs...)
}
