//go:build !linux

package pglocal

import (
	"errors"
	"syscall"
)

// sysProcAttr puts the server in its own process group, so a terminal's
// Ctrl-C reaches only the app, which then stops the server cleanly. Outside
// Linux there is no parent-death signal: if the app is killed outright the
// server keeps running until the next Start signals it (see clearStalePid).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// processAlive reports whether pid runs.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// isPostgresFor trusts postmaster.pid, as pg_ctl does: there is no /proc.
func isPostgresFor(int, string) bool { return true }

// children is not implemented off Linux: Freeze and Thaw are for the
// fault tests, which run on Linux.
func children(int) ([]int, error) {
	return nil, errors.New("pglocal: Freeze and Thaw need Linux")
}
