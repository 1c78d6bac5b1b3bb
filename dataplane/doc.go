// Package dataplane is the ground floor of fastipsec: packet buffers
// (pkt), header views (hdr), counters (stats), route tables (lpm) and the
// per-core poll loops (engine). Nothing here imports ports/, ipsec/,
// ctrl/, config/ or zap; layering_test.go enforces it.
package dataplane
