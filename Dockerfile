# fastipsec router image: the daemon and tools (pure Go, CGO_ENABLED=0) and the
# LD_PRELOAD PF_KEY shim for keying daemons (C, built by make build with gcc).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make build

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends iproute2 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/bin/ /usr/local/bin/
COPY --from=build /src/lib/libpfkey-unix.so /usr/local/lib/
# AF_PACKET and TAP ports need CAP_NET_RAW and CAP_NET_ADMIN (--cap-add).
ENTRYPOINT ["/usr/local/bin/ipsecd"]
CMD ["-c", "/etc/ipsecd/ipsecd.yaml"]
