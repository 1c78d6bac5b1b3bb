# fastipsec — see README.md. Everything a target needs it installs itself
# (apt-get when root) or names what is missing.

GO       ?= go
BIN      := bin
CMDS     := $(notdir $(wildcard cmd/*))
FUZZTIME ?= 5s
BENCHTIME ?= 1s
# Debian packages the tests use: ip/netns (iproute2), ping (iputils-ping),
# tcpdump and tshark to cross-check our capture files (enc0 captures), scapy
# to cross-check ESP.
TEST_DEBS := iproute2 iputils-ping tcpdump tshark python3-scapy

.PHONY: all build shim run test bench fuzz lint deps clean

all: build

build: shim
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/ $(addprefix ./cmd/,$(CMDS))

# lib/libpfkey-unix.so: LD_PRELOAD it to point a PF_KEY client at ipsecd.
SHIM_CC ?= gcc
SHIM    := lib/libpfkey-unix.so
SHIM_CMD = $(SHIM_CC) -Wall -Wextra -O2 -fPIC -shared -o $(SHIM) lib/pfkey-unix.c -ldl
shim:
	@if command -v $(SHIM_CC) >/dev/null 2>&1; then \
		echo "$(SHIM_CMD)"; $(SHIM_CMD); \
	else \
		echo "note: $(SHIM_CC) not found, $(SHIM) not built (install gcc to build the PF_KEY shim)"; \
	fi

# The demo: a traffic generator through the router over in-memory ring
# ports, rates printed every second. No root, no NIC, no DPDK.
run: build
	$(BIN)/ipsecd demo --duration 5s

deps:
	@missing=""; \
	command -v ip >/dev/null 2>&1 || missing="$$missing iproute2"; \
	command -v ping >/dev/null 2>&1 || missing="$$missing iputils-ping"; \
	command -v tcpdump >/dev/null 2>&1 || missing="$$missing tcpdump"; \
	command -v tshark >/dev/null 2>&1 || missing="$$missing tshark"; \
	/usr/bin/python3 -c 'import scapy.layers.ipsec' >/dev/null 2>&1 || missing="$$missing python3-scapy"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "note: not installed:$$missing (tests that need them skip; install them as root to run those)"; \
		fi; \
	fi
	@command -v $(GO) >/dev/null 2>&1 || { echo "Go 1.26 is required: https://go.dev/dl/"; exit 1; }

test: deps lint
	$(GO) test -count=1 -timeout 15m ./...
	$(GO) test -count=1 -race -timeout 10m ./dataplane/... ./ports/ring/ ./perf/...

bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./...

# Short runs of every fuzz target (FUZZTIME each).
fuzz:
	@for f in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
		dir=$$(dirname $$f); \
		for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -d' ' -f2); do \
			echo "fuzz $$dir $$t"; \
			$(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$dir || exit 1; \
		done; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

clean:
	rm -rf $(BIN) $(SHIM)
