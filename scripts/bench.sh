#!/usr/bin/env bash
# Runs the benchmarks whose figures BENCHMARKS.md quotes, each against real
# processes on this machine (private redis-server, local chains). Prints the
# machine's core count first: figures mean nothing without it.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "cores: $(nproc)   go: $(go version | cut -d' ' -f3)   $(date -u +%FT%TZ)"
bench() { # package, pattern, benchtime
  echo
  echo "## go test -run '^\$' -bench '$2' -benchtime $3 $1"
  go test -run '^$' -bench "$2" -benchtime "$3" -count 1 "$1" | grep -E '^(Benchmark|ok|FAIL|---)' || true
}
bench ./settlement/ledger 'Credit' 2s
bench ./addressbook 'IndexBuild1M$|IndexBuild1MMixed|IndexBuild1MSolana' 1x
bench ./settlement 'Settle' 2s
bench ./webhooks 'Deliveries' 10000x
bench ./internal/devnet/evmnet 'GetLogsFloor|ClientTransfers' 1x
bench ./watchers 'WatcherBackfill' 1x
bench ./internal/evmbench '.' 1x
bench ./chains/tron 'Scan' 1x
bench ./internal/tronbench 'TronBackfill$' 3x
bench ./chains/solana 'Transfers|BareGetBlock' 1x
bench ./internal/daemon 'OpsCollectorScrape' 2s
