// Package evmbench measures the EVM watcher of issue 3 against a local
// simulated chain (internal/devnet/evmnet): backfill time next to a bare
// eth_getLogs loop over the same ranges, RPC requests per block at steady
// state, and the delay from a deposit's block reaching the credit policy to
// its credit. The benchmarks live in the package's tests; this package holds
// the harness they share with the tiny test that `make test` runs.
package evmbench
