//go:build !linux

package engine

import "errors"

func pinToCPU(int) error { return errors.New("CPU pinning is only supported on Linux") }
