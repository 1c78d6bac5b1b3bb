package stage

import (
	"reflect"
	"sync/atomic"
	"testing"
)

// setCounters gives every atomic counter of e (a *XStats) a distinct value
// from base and returns them by name.
func setCounters(t *testing.T, e any, base uint64) map[string]uint64 {
	t.Helper()
	v := reflect.ValueOf(e).Elem()
	got := map[string]uint64{}
	for i := range v.NumField() {
		if !v.Type().Field(i).IsExported() {
			continue
		}
		c, ok := v.Field(i).Addr().Interface().(*atomic.Uint64)
		if !ok {
			continue
		}
		n := base + uint64(i)
		c.Store(n)
		got[v.Type().Field(i).Name] = n
	}
	return got
}

// checkTotals wants every uint64 field of the totals tot to be the sum of
// the same-named counter on the cores, and every counter to have a total.
func checkTotals(t *testing.T, kind string, tot any, cores ...map[string]uint64) {
	t.Helper()
	v := reflect.ValueOf(tot)
	seen := 0
	for i := range v.NumField() {
		if v.Field(i).Kind() != reflect.Uint64 {
			continue
		}
		name := v.Type().Field(i).Name
		var want uint64
		for _, c := range cores {
			n, ok := c[name]
			if !ok {
				t.Fatalf("%s total %s has no counter", kind, name)
			}
			want += n
		}
		if got := v.Field(i).Uint(); got != want {
			t.Errorf("%s %s = %d, want %d", kind, name, got, want)
		}
		seen++
	}
	if seen != len(cores[0]) {
		t.Errorf("%s: %d totals for %d counters", kind, seen, len(cores[0]))
	}
}

// Every counter of every kind is summed over the cores into its total.
func TestStatsTotals(t *testing.T) {
	s := NewStats()
	if s.core(0) != s.core(0) || s.coreAH(1) != s.coreAH(1) {
		t.Fatal("a core's counters made twice")
	}
	esp0, esp3 := setCounters(t, s.core(0), 100), setCounters(t, s.core(3), 1000)
	ah1, ah2 := setCounters(t, s.coreAH(1), 200), setCounters(t, s.coreAH(2), 2000)
	comp0 := setCounters(t, s.coreIPComp(0), 300)
	acq0, acq5 := setCounters(t, s.acquireCore(0), 400), setCounters(t, s.acquireCore(5), 4000)
	checkTotals(t, "ESP", s.ESP(), esp0, esp3)
	checkTotals(t, "AH", s.AH(), ah1, ah2)
	checkTotals(t, "IPComp", s.IPComp(), comp0)
	checkTotals(t, "ACQUIRE", s.Acquire(), acq0, acq5)
}
