# depositd — see README.md. `make run` and `make test` are the two commands
# that must work on a fresh machine with only Go installed.
GO       ?= go
BIN      := bin
PKGS     := ./...
TESTFLAGS ?= -count=1 -timeout 20m

.PHONY: all build run test bench lint deps test-deps clean chaos

all: build

deps:
	@./scripts/ensure-redis.sh

test-deps: deps
	@./scripts/ensure-chromium.sh
	@./scripts/ensure-promtool.sh

build:
	$(GO) build -o $(BIN)/depositd ./cmd/depositd
	$(GO) build -o $(BIN)/depositctl ./cmd/depositctl

run: deps build
	./$(BIN)/depositd dev $(ARGS)

# The suites that depend on the Redis topology run again on a private
# 3-master Redis Cluster and a Sentinel deployment (internal/redistest).
TOPOLOGY_PKGS := ./settlement/ledger ./watchers ./addressbook

test: test-deps
	$(GO) vet $(PKGS)
	$(GO) test $(TESTFLAGS) $(PKGS)
	DEPOSITD_TEST_REDIS=cluster $(GO) test $(TESTFLAGS) $(TOPOLOGY_PKGS)
	DEPOSITD_TEST_REDIS=sentinel $(GO) test $(TESTFLAGS) $(TOPOLOGY_PKGS)

bench: deps build
	./scripts/bench.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

clean:
	rm -rf $(BIN)

# The seeded whole-pipeline fault campaign (RELIABILITY.md): 5 minutes of
# faults against two depositd processes, then the checker.
CHAOS_SEED ?= 20261123
CHAOS_DURATION ?= 5m
chaos: deps build
	$(GO) run ./cmd/chaos -bin $(BIN)/depositd -seed $(CHAOS_SEED) -duration $(CHAOS_DURATION)
