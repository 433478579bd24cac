//go:build linux

package pglocal

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// sysProcAttr puts the server in its own process group (a terminal's Ctrl-C
// reaches only the app, which then stops the server cleanly) and has the
// kernel send it SIGINT (fast shutdown) if the app dies, even by kill -9.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGINT}
}

// processAlive reports whether pid runs; a zombie counts as dead (a pid 1
// that never reaps would otherwise keep it "alive" forever).
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !os.IsNotExist(err)
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

// isPostgresFor reports whether pid is a postgres serving dir, judged from
// /proc; when /proc says nothing it trusts postmaster.pid, as pg_ctl does.
func isPostgresFor(pid int, dir string) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(cmdline) == 0 {
		return true
	}
	args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
	name := filepath.Base(string(args[0]))
	if name != "postgres" && name != "postmaster" {
		return false
	}
	if cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd"); err == nil {
		return cwd == dir
	}
	for _, a := range args {
		if string(a) == dir {
			return true
		}
	}
	return false
}

// children lists the processes whose parent is pid, from /proc.
func children(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var kids []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := bytes.Fields(stat[i+1:])
		if len(fields) > 1 {
			if ppid, _ := strconv.Atoi(string(fields[1])); ppid == pid {
				kids = append(kids, n)
			}
		}
	}
	return kids, nil
}
