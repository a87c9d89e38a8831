# gopherscope — see README.md. `make` alone lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

ROOT    := $(abspath .)
BIN     := $(ROOT)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/gopherscope/gopherscope/version.Version=$(VERSION)

# One build configuration for everything make runs: our static binaries, the
# tools, go vet and go test. With gcc on the machine, go test and go install
# would otherwise compile cgo-enabled, untrimmed variants of every package the
# binaries already compiled static and trimmed, doubling a cold build. Test
# binaries and tools link without DWARF (-w; a command's own -ldflags, as
# build's below, replaces it): go test links every test binary on each run.
export CGO_ENABLED := 0
export GOFLAGS := $(strip $(filter-out -trimpath -ldflags=-w,$(GOFLAGS)) -trimpath -ldflags=-w)
# grpcnotrace: gRPC (linked into the diagnostics server by k8s.io/apiserver's
# webhook clients) otherwise imports golang.org/x/net/trace, whose templates
# make the linker keep every exported method of every type: 61 instead of
# 40 MB, and ~10 MiB more resident memory. hack/release.sh and
# test/localcluster.Build pass the same tags.
GO_TAGS  := grpcnotrace
GO_BUILD := go build -tags '$(GO_TAGS)' -ldflags '$(LDFLAGS)'

# Pinned tool versions, each built from its Go module into ./bin.
GOLANGCI_LINT_VERSION := v2.15.0
HELM_VERSION          := v3.22.0
HELM_DOCS_VERSION     := v1.14.2
PROMTOOL_VERSION      := v0.316.0

# envtest finds kube-apiserver and etcd here (built by `make controlplane`).
export KUBEBUILDER_ASSETS := $(BIN)

FUZZTIME ?= 5s

##@ General
.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Build
BINARIES := webhook sidecar gopherscope diagnostics demo-app
.PHONY: build
build: ## Build the binaries into ./bin (static, version-stamped).
	@mkdir -p $(BIN)
	@for b in $(BINARIES); do echo "go build ./cmd/$$b -> bin/$$b"; $(GO_BUILD) -o $(BIN)/$$b ./cmd/$$b; done

##@ Test
.PHONY: test
test: build tools controlplane ## Run everything: unit, golden, fuzz seeds (+ short fuzzing), chart and e2e tests (timed per phase).
	FUZZTIME=$(FUZZTIME) hack/test.sh

.PHONY: e2e
e2e: build tools controlplane modules ## Run the end-to-end tests: on a real node (root, containerd) and the local control plane.
	go test -count=1 -tags e2e -timeout 30m ./test/e2e/...

# The prometheus-operator's own configuration for the chart's PodMonitor and
# PrometheusRule, scraped by a real Prometheus on the node. Its own target:
# the operator's build (another Prometheus and client-go) is too long for
# `make test` (BENCHMARKS.md has the time).
.PHONY: e2e-operator
e2e-operator: build tools controlplane modules $(BIN)/prometheus-operator ## The chart's PodMonitor and rules through the prometheus-operator, on the real node.
	go test -count=1 -tags 'e2e operator' -timeout 20m -run '^TestNodeOperator' ./test/e2e/...

# The node's network namespace has no route to the module proxy: download
# every module the tests and the demo build there (the image builder's too).
.PHONY: modules
modules:
	@go mod download && go -C hack/images mod download

.PHONY: fuzz
fuzz: ## Run every fuzz target for longer (FUZZTIME, default 2m here).
	FUZZTIME=$${FUZZTIME_LONG:-2m} hack/fuzz.sh

.PHONY: lint
lint: $(BIN)/golangci-lint ## Run gofmt, go vet and golangci-lint.
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...
	$(BIN)/golangci-lint run ./...
	go -C hack/images vet ./...
	cd hack/images && $(BIN)/golangci-lint run ./...

.PHONY: helm-lint
helm-lint: $(BIN)/helm ## Lint the chart and render it with every values combination.
	hack/helm-lint.sh

.PHONY: verify
verify: $(BIN)/helm-docs ## Regenerate generated files and fail if anything changed.
	HELM_DOCS=$(BIN)/helm-docs hack/verify.sh

##@ Run
.PHONY: demo
demo: build $(BIN)/helm controlplane modules ## The whole product end to end on the embedded local cluster (a real node where it can run).
	go run ./test/demo

.PHONY: bench
bench: build $(BIN)/helm controlplane modules ## Benchmarks against their floors (webhook on the local control plane, sidecar on the demo app, diagnostics API on the real node); prints a table.
	hack/bench.sh

.PHONY: soak
soak: build tools controlplane ## Load, soak and rotation scenarios for the webhook.
	hack/soak.sh

##@ Release
.PHONY: images
images: ## Build the webhook, diagnostics and sidecar images as OCI archives in dist/images (no Docker daemon).
	VERSION=$(VERSION) hack/release.sh images

.PHONY: release
release: $(BIN)/helm ## Dry-run release into dist/: linux/amd64+arm64 binaries, images, chart, SHA256SUMS.
	VERSION=$(VERSION) HELM=$(BIN)/helm hack/release.sh all

##@ Tools
.PHONY: tools
tools: $(BIN)/helm $(BIN)/helm-docs $(BIN)/promtool $(BIN)/prometheus ## Build the pinned tools into ./bin.

$(BIN)/golangci-lint:
	@echo "building golangci-lint $(GOLANGCI_LINT_VERSION) (first time ~3 min)"
	GOBIN=$(BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

# Stamped as helm's own release build does: its version, and the Kubernetes version it assumes
# without a cluster (its client-go's, 1.37; unstamped it is 1.20, which the chart refuses).
HELM_LDFLAGS := -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37 \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37

$(BIN)/helm:
	@echo "building helm $(HELM_VERSION) (first time ~1 min)"
	GOBIN=$(BIN) go install -ldflags '$(HELM_LDFLAGS)' helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

# The chart README's generator (make verify).
$(BIN)/helm-docs:
	@echo "building helm-docs $(HELM_DOCS_VERSION)"
	GOBIN=$(BIN) go install github.com/norwoodj/helm-docs/cmd/helm-docs@$(HELM_DOCS_VERSION)

$(BIN)/promtool:
	@echo "building promtool $(PROMTOOL_VERSION) (first time ~8 min)"
	GOBIN=$(BIN) go install github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION)

# The Prometheus server, for the e2e tests that scrape the sidecars through
# Kubernetes discovery and query the dashboard and alerts (its HTTP API only:
# the web UI's assets are not built). Shares most packages with promtool.
$(BIN)/prometheus:
	@echo "building prometheus $(PROMTOOL_VERSION) (~2 min after promtool)"
	GOBIN=$(BIN) go install github.com/prometheus/prometheus/cmd/prometheus@$(PROMTOOL_VERSION)

# Built from its own small module: the operator's go.mod replaces its nested
# modules, which `go install module@version` refuses.
$(BIN)/prometheus-operator: hack/tools/prometheus-operator/go.mod
	@echo "building prometheus-operator (first time ~10 min)"
	go -C hack/tools/prometheus-operator build -trimpath -o $(BIN)/prometheus-operator github.com/prometheus-operator/prometheus-operator/cmd/operator

KUBE_BINARIES := kube-apiserver kubelet kube-controller-manager kube-scheduler kube-proxy kubectl

.PHONY: controlplane
controlplane: $(BIN)/.kubernetes-built $(BIN)/etcd ## Build the local cluster (kube-apiserver, kubelet, controller-manager, scheduler, kube-proxy, kubectl, etcd) from their Go modules (first time ~15 min).

# One go build for all Kubernetes binaries, so the packages they share compile once.
$(BIN)/.kubernetes-built: $(shell find hack/controlplane/kubernetes -type f)
	hack/controlplane/build.sh kubernetes
	@for b in $(KUBE_BINARIES); do test -x $(BIN)/$$b || { echo "missing bin/$$b"; exit 1; }; done
	@touch $@

$(BIN)/etcd: $(wildcard hack/controlplane/etcd/*)
	hack/controlplane/build.sh etcd

.PHONY: clean
clean: ## Remove built binaries and outputs.
	rm -rf $(BIN) dist
