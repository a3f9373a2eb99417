# depositd — see README.md. `make run` and `make test` are the two commands
# that must work on a fresh machine with only Go installed.
GO       ?= go
BIN      := bin
PKGS     := ./...
TESTFLAGS ?= -count=1 -timeout 20m

.PHONY: all build run test bench lint deps test-deps clean

all: build

deps:
	@./scripts/ensure-redis.sh

test-deps: deps
	@./scripts/ensure-chromium.sh

build:
	$(GO) build -o $(BIN)/depositd ./cmd/depositd
	$(GO) build -o $(BIN)/depositctl ./cmd/depositctl

run: deps build
	./$(BIN)/depositd dev $(ARGS)

test: test-deps
	$(GO) vet $(PKGS)
	$(GO) test $(TESTFLAGS) $(PKGS)

bench: deps build
	./scripts/bench.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

clean:
	rm -rf $(BIN)
