# esig: the two commands a new user needs are `make run` and `make test`.
GO        ?= go
BIN       := bin/esig
DATA      ?= ./esig-data
LISTEN    ?= 127.0.0.1:8080
FUZZTIME  ?= 30s
BENCHTIME ?= 5s

.PHONY: all build run test test-short bench bench-peers load fuzz zlint web vet fmt clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/esig

## run: build esig and serve on the embedded default (SQLite and a CA in $(DATA), created on first start)
run: build
	./$(BIN) serve --data $(DATA) --listen $(LISTEN)

## test: every test; PostgreSQL variants run when ESIG_TEST_POSTGRES_DSN is set (.ci/run sets it)
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

test-short:
	$(GO) test -short ./...

## bench: throughput and latency targets (issuance over HTTP, OCSP, store, signatures)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 60m ./bench/... ./ca/... ./verifier/... ./signer/...

## bench-peers: esig against step-ca, cfssl serve/ocspserve, openssl ocsp/cms and xmlsec1 on this machine, same
## load, table of ratios (peers built or installed where missing, outside the repository; BENCH_PEERS_FLAGS="-n 3000 -c 32 -docs 100")
BENCH_PEERS_FLAGS ?=
bench-peers: build
	./scripts/bench-peers.sh $(BIN) $(BENCH_PEERS_FLAGS)

## load: 10,000 issuance requests from 50 clients (own API keys, default rate limit) on SQLite and
## PostgreSQL (when ESIG_TEST_POSTGRES_DSN is set): zero errors, zero duplicate serials
load:
	ESIG_LOAD=1 $(GO) test -count=1 -run '^TestLoad$$' -v -timeout 30m ./bench/

## fuzz: every fuzz target for FUZZTIME each
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s $$pkg; \
	  done; \
	done

## zlint: build the zlint command (the version esig lints with; also `go tool zlint CERT.pem`)
zlint:
	$(GO) build -o bin/zlint github.com/zmap/zlint/v3/cmd/zlint

## web: rebuild the enrollment page's bundle (api/web/dist, committed: go build needs no Node)
web:
	cd api/web && npm ci && npm run build

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
