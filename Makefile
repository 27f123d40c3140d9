# Run `make help` for the targets.
GO ?= go

.PHONY: help build test test-race test-short lint fuzz bench tidy verify

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/culvert
	$(GO) build -o bin/culvert ./cmd/culvert

test: ## run the whole test suite, as CI does (race detector on)
	$(GO) test -race -timeout 20m ./...

test-short: ## run the fast unit tests only
	$(GO) test -short ./...

lint: ## go vet, gofmt, and staticcheck when installed
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed; skipped"; fi

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@for pkg in ./internal/awsjson ./internal/sigv4 ./internal/datapipeline ./internal/pipeline ./internal/expr ./internal/scheduler; do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep ^Fuzz); do \
	    $(GO) test $$pkg -run XXX -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-30s} || exit 1; \
	  done; \
	done

bench: ## compare culvert with moto on the API workloads (bench/README.md)
	bash bench/run.sh

tidy: ## tidy go.mod
	$(GO) mod tidy

verify: ## fail if go.mod is untidy
	$(GO) mod tidy -diff
