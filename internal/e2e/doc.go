// Package e2e holds end-to-end crash tests: watcher processes over the
// local Tron and Solana nodes, crediting through the real ledger on a
// private redis-server, killed with SIGKILL at random points. The package
// has no production code; see its tests.
package e2e
