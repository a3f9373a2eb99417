#!/usr/bin/env bash
# Makes sure promtool is installed, for deploy/alerts_test.go to run
# `promtool check rules` and `promtool test rules` on deploy/alerts.yml.
# Installs the pinned version with `go install` into $(go env GOPATH)/bin
# when missing (the first time takes a few minutes: Prometheus is large).
# Failing to install is not fatal: the Go test then skips promtool, saying
# so, and still parses every rule and checks its metric names.
set -euo pipefail
version=v0.316.0
bin="$(go env GOPATH)/bin/promtool"
if command -v promtool >/dev/null 2>&1 || [ -x "$bin" ]; then
  exit 0
fi
echo "promtool not found: installing github.com/prometheus/prometheus/cmd/promtool@$version (a few minutes, once)" >&2
if ! go install "github.com/prometheus/prometheus/cmd/promtool@$version" >&2; then
  echo "promtool could not be installed: deploy tests will check the rules without it" >&2
fi
