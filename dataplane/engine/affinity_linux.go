package engine

import "golang.org/x/sys/unix"

// pinToCPU binds the calling OS thread to one CPU.
func pinToCPU(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(0, &set)
}
