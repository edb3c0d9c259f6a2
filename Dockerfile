# Dockerfile - builds invsyncd on Debian bookworm (the Debian packages the project uses) and
# runs it as an unprivileged user. Used by docker-compose.yml; `docker build -t invsync .` alone
# works too.
FROM debian:bookworm-slim AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential pkg-config librdkafka-dev liburcu-dev libxxhash-dev libzstd-dev \
        libjansson-dev libmicrohttpd-dev libmimalloc-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY engine engine
COPY io io
COPY tools tools
COPY perf perf
RUN make -j"$(nproc)" build/invsyncd

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        librdkafka1 liburcu8 libxxhash0 libzstd1 libjansson4 libmicrohttpd12 libmimalloc2.0 kcat \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/invsync --create-home invsync \
    && install -d -o invsync -g invsync /var/lib/invsync/data
COPY --from=build /src/build/invsyncd /usr/local/bin/invsyncd
COPY tools/sample-data /usr/share/invsync/sample-data
USER invsync
WORKDIR /var/lib/invsync
ENTRYPOINT ["/usr/local/bin/invsyncd"]
CMD ["--brokers", "kafka:9092", "--data-dir", "/var/lib/invsync/data", "--http", "0.0.0.0:8080"]
