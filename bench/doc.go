// Package bench holds the system benchmarks of esig: whole requests against
// a real server on loopback, measured the way a portal would load it. Run
// them with `make bench`; they are never run as tests.
package bench
