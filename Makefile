# devportal: the developer portal, gateway control core and data plane node.
# `make run` and `make test` do all set-up on a fresh machine.

GO        ?= go
TEMPL     := $(GO) run github.com/a-h/templ/cmd/templ@v0.3.977
SWAG      := $(GO) run github.com/swaggo/swag/cmd/swag@v1.16.6
BIN       := bin

.PHONY: run build test generate check-generated bench fmt vet browser

build:
	$(GO) build -o $(BIN)/devportal ./cmd/devportal
	$(GO) build -o $(BIN)/gateway ./cmd/gateway

## run: the whole product on its embedded default (SQLite + embedded etcd under ./data)
run: build
	./$(BIN)/devportal

## test: every test; with DATABASE_URL=postgres://... the database tests run on PostgreSQL too
test: browser
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

## browser: Debian's Chromium for the real-browser test (installed when missing)
browser:
	./scripts/install-chromium.sh

## generate: templ components and swag docs, at pinned versions
generate:
	@if find views -name '*.templ' 2>/dev/null | grep -q .; then $(TEMPL) generate -path views; fi
	$(SWAG) init -q -g routes.go -d handlers,gateway,models,portal -o docs --outputTypes go,json --parseInternal

## check-generated: fails when generated code is not what the sources generate
check-generated: generate
	@test -z "$$(git status --porcelain -- docs views)" || \
		(git status --short -- docs views; git --no-pager diff --stat -- docs views; \
		 echo "generated code is stale: run make generate and commit"; exit 1)

## bench: data plane vs nginx, churn, propagation and portal-at-scale benchmarks (BENCHMARKS.md)
bench:
	./scripts/bench/all.sh

fmt:
	gofmt -l -w $$(git ls-files '*.go' | grep -v '_templ.go$$')
