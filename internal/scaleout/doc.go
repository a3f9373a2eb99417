// Package scaleout holds the multi-process test: several depositd
// processes against one redis-server and a local EVM chain, the holder of
// the chain's scan lease killed with SIGKILL again and again during a
// deposit stream (see scaleout_test.go).
package scaleout
