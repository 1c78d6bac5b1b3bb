// Package engine runs the dataplane: one poll loop per configured core,
// each pulling bursts from its rx queues and pushing them through the
// router and the IPsec stages to the ports' tx queues.
//
//	rx burst ─► ingress ─────► inbound stages ─► local? ─yes─► host path / echo / NDP
//	           (L2 strip,       (IPsec decap,      │
//	            ARP, IP checks)  inbound policy)   no
//	                                               ▼
//	                      TTL ─► outbound stages ─► route ─► MTU/fragment ─► neighbour ─► L2 ─► tx burst
//	                             (policy, encap)              (ICMP errors)   (ARP/NDP hold)
//
// Packets the router makes itself (ICMP errors, echo replies) and packets
// the host sends through the host-path port enter at the outbound stages,
// so they are protected by policy like any other.
//
// The engine never imports ports/ or ipsec/: ports satisfy Port, IPsec
// transforms satisfy Stage, and cmd/ wires them together. Router tables
// (addresses, routes) are immutable and published with atomic.Pointer;
// each core loads them once per burst and never takes a lock the control
// plane holds.
package engine
