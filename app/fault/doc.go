// Package fault holds Gavel's fault tests: real instances as separate OS
// processes (the binary `go run ./app` builds), on a real PostgreSQL and
// behind a real HAProxy, killed, drained and cut off from their database
// under load. The package has no code of its own; its tests say what each
// fault must not break.
//
// The tests run one at a time (but for the cheap start-up test): each
// times its faults and answers on a shared 2-core machine, and load from
// its neighbours would only blur those bounds.
//
// The tests build with the tag !race: the instances under test are other
// processes, which the race detector in the test binary cannot see, so a
// race run would only repeat the same minute. The race detector covers the
// server code in the packages that hold it.
package fault
