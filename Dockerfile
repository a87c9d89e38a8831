# syntax=docker/dockerfile:1
#
# The gopherscope images, one target each (webhook, diagnostics, sidecar; without --target, the
# last one, sidecar, is built):
#
#   docker buildx build --target webhook --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=v0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)" \
#     --build-arg CREATED="$(date -u -d @"$(git log -1 --format=%ct)" +%Y-%m-%dT%H:%M:%SZ)" \
#     --output type=image,name=ghcr.io/gopherscope/webhook:v0.1.0,rewrite-timestamp=true .
#
# `make images` builds the same images without a Docker daemon (hack/images, which
# CI tests): FROM scratch, /etc/passwd and /etc/group from hack/images/rootfs (user
# nonroot, 65532), the static binary at /<name> as the entrypoint, run as
# 65532:65532, no shell, no package manager, nothing else.

# The builder is pinned by tag to the Go release the project is tested with. A
# tag can be re-pushed: for a release, pin its digest too, e.g.
#   FROM --platform=$BUILDPLATFORM golang:1.26.8@sha256:<digest> AS build
# (`docker buildx imagetools inspect golang:1.26.8` prints it), and let a bot bump both.
ARG GO_VERSION=1.26.8
ARG VERSION=dev

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Cross-compiled on the build machine (no emulation); the same flags as
# hack/release.sh, so both give the same binaries.
ARG TARGETOS TARGETARCH VERSION
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/gopherscope/gopherscope/version.Version=${VERSION}" \
      -o /out/ ./cmd/webhook ./cmd/diagnostics ./cmd/sidecar

FROM scratch AS base
ARG VERSION REVISION CREATED
LABEL org.opencontainers.image.source="https://github.com/gopherscope/gopherscope" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --chmod=0644 hack/images/rootfs/etc/passwd hack/images/rootfs/etc/group /etc/
USER 65532:65532
WORKDIR /

FROM base AS webhook
LABEL org.opencontainers.image.title="gopherscope-webhook" \
      org.opencontainers.image.description="gopherscope admission webhook: injects the Go runtime metrics sidecar into opted-in pods"
COPY --from=build /out/webhook /webhook
ENTRYPOINT ["/webhook"]

FROM base AS diagnostics
LABEL org.opencontainers.image.title="gopherscope-diagnostics" \
      org.opencontainers.image.description="gopherscope diagnostics API server: stats, profiles, dumps and traces of injected pods through the Kubernetes API"
COPY --from=build /out/diagnostics /diagnostics
ENTRYPOINT ["/diagnostics"]

FROM base AS sidecar
LABEL org.opencontainers.image.title="gopherscope-sidecar" \
      org.opencontainers.image.description="gopherscope sidecar: reads a Go app's expvar and pprof endpoints and serves its Go runtime metrics"
COPY --from=build /out/sidecar /sidecar
ENTRYPOINT ["/sidecar"]
