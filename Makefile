# longhaul — the two commands a new user needs are `make demo` and `make test`.
# Tools are pinned and cached outside the repository, so a second run reuses them.

SHELL := /bin/bash
GO ?= go

TEMPORAL_VERSION   := v1.5.1
VERSITYGW_VERSION  := v1.8.0
PLAYWRIGHT_VERSION := 1.65.1
FAKEGCS_VERSION    := v1.56.1
AZURITE_VERSION    := 3.37.0

TOOLS_DIR ?= $(or $(LONGHAUL_TOOLS_DIR),$(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME)/longhaul/tools,$(HOME)/.cache/longhaul/tools))
TEMPORAL  := $(TOOLS_DIR)/temporal-$(TEMPORAL_VERSION)/temporal
VERSITYGW := $(TOOLS_DIR)/versitygw-$(VERSITYGW_VERSION)/versitygw
PLAYWRIGHT_DIR := $(TOOLS_DIR)/playwright-core-$(PLAYWRIGHT_VERSION)
CHROMIUM  := /usr/bin/chromium
FAKEGCS   := $(TOOLS_DIR)/fake-gcs-server-$(FAKEGCS_VERSION)/fake-gcs-server
AZURITE_DIR := $(TOOLS_DIR)/azurite-$(AZURITE_VERSION)
AZURITE   := $(AZURITE_DIR)/node_modules/.bin/azurite-blob
export LONGHAUL_TOOLS_DIR := $(TOOLS_DIR)
export LONGHAUL_PLAYWRIGHT_DIR := $(PLAYWRIGHT_DIR)
# Root installs Debian packages directly; anyone else through sudo.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# Library packages run under the race detector; examples run without it.
LIB_PKGS := ./codec/... ./interceptor/... ./payloadsvc/... ./internal/... .
TEST_FLAGS ?= -count=1 -timeout 25m
# Test artifacts (the browser test's screenshots) are kept here by `make test`.
ARTIFACTS ?= $(CURDIR)/artifacts

.PHONY: all tools browser test fuzz loadtest demo bench memreport gobench lint fmt

all: lint test

tools: $(TEMPORAL) $(VERSITYGW) browser
# Emulators for codec/gcsstore and codec/azblobstore.
tools: $(FAKEGCS) $(AZURITE)

# The browser test drives Debian's Chromium with npm's playwright-core (no browser download).
browser: $(CHROMIUM) $(PLAYWRIGHT_DIR)/node_modules/playwright-core/package.json

$(CHROMIUM):
	@echo ">> installing Debian chromium"
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

$(PLAYWRIGHT_DIR)/node_modules/playwright-core/package.json:
	@echo ">> installing playwright-core $(PLAYWRIGHT_VERSION) into $(PLAYWRIGHT_DIR)"
	mkdir -p $(PLAYWRIGHT_DIR)
	cd $(PLAYWRIGHT_DIR) && npm install --no-save --no-audit --no-fund --loglevel=error playwright-core@$(PLAYWRIGHT_VERSION)

# The Temporal CLI v1.5.1 embeds server 1.29.1 and UI 2.42.1 (about 7 minutes to build on 2 cores).
$(TEMPORAL):
	@echo ">> installing temporal CLI $(TEMPORAL_VERSION) into $(dir $@) (once; several minutes)"
	GOBIN=$(dir $@) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_VERSION)

$(VERSITYGW):
	@echo ">> installing versitygw $(VERSITYGW_VERSION) into $(dir $@)"
	GOBIN=$(dir $@) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

# fake-gcs-server (Google Cloud Storage JSON API; about 2 minutes to build on 2 cores).
$(FAKEGCS):
	@echo ">> installing fake-gcs-server $(FAKEGCS_VERSION) into $(dir $@)"
	GOBIN=$(dir $@) $(GO) install github.com/fsouza/fake-gcs-server@$(FAKEGCS_VERSION)

# Azurite (Azure Storage emulator) from npm; its blob service alone is started by tests.
$(AZURITE):
	@echo ">> installing azurite $(AZURITE_VERSION) into $(AZURITE_DIR)"
	mkdir -p $(AZURITE_DIR)
	cd $(AZURITE_DIR) && npm install --no-save --no-audit --no-fund --loglevel=error azurite@$(AZURITE_VERSION)

# Fuzz targets run briefly in every `make test`; `make fuzz FUZZTIME=5m` runs them longer.
# The default is a count of executions, not a duration: when a duration runs out while a
# worker minimizes a new input, Go's fuzz coordinator can report the worker's "context
# deadline exceeded" as a failure (a race between two timers), which failed CI once.
FUZZTIME ?= 20000x
FUZZ_TARGETS := ./codec:FuzzParseReference ./codec:FuzzReferenceSizes ./codec:FuzzLocate ./payloadsvc:FuzzDecodeRequest ./payloadsvc:FuzzEncodeRequest ./payloadsvc:FuzzBlobPut

test: tools
	rm -rf $(ARTIFACTS) && mkdir -p $(ARTIFACTS)
	$(GO) test $(TEST_FLAGS) -race -artifacts -outputdir $(ARTIFACTS) $(LIB_PKGS)
	$(GO) test $(TEST_FLAGS) ./examples/...
	$(GO) test $(TEST_FLAGS) ./cmd/...
	@$(MAKE) --no-print-directory fuzz

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo ">> fuzz $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

# `make demo UI=1` also starts the Temporal web UI, decoding payloads through the payload
# service, prints the link to the workflow and runs until Ctrl-C.
demo: $(TEMPORAL)
	$(GO) run ./examples/quickstart -temporal-cli $(TEMPORAL) $(if $(UI),-ui)

# The payload service's real binary under 100 concurrent clients for 20 s (1 MiB PUT and
# GET, loopback): prints requests/s, latency percentiles and the service's peak RSS.
loadtest:
	$(GO) test -tags loadtest -run '^TestLoad$$' -count=1 -v -timeout 5m ./payloadsvc/

# The performance acceptance report (about 5 minutes on 2 cores): every figure as a ratio to
# SHA-256 and memcpy measured in the same run (internal/cmd/benchreport), then the memory
# report (internal/cmd/memreport; `make memreport` rewrites the committed copy).
bench: $(VERSITYGW)
	$(GO) run ./internal/cmd/benchreport
	$(GO) run ./internal/cmd/memreport

memreport:
	$(GO) run ./internal/cmd/memreport -o codec/testdata/memreport.txt

# The packages' own Go benchmarks.
gobench: tools
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(LIB_PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags loadtest ./payloadsvc/

fmt:
	gofmt -w $$(git ls-files '*.go')
