# MariaDB 10.11 node run by `manage` under ContainerPilot 3.
#   docker build -t manage-mariadb .
# linux/amd64 only: ContainerPilot 3.8.0 and the Consul download below are
# amd64 builds (on another host: docker build --platform linux/amd64 ...).

# ---- manage, built from source ----
FROM debian:bookworm-slim AS build
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config \
        libcurl4-openssl-dev rapidjson-dev libmariadb-dev libfmt-dev libssl-dev \
        libzstd-dev zlib1g-dev libmicrohttpd-dev; \
    rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmd ./cmd
COPY lib ./lib
RUN set -eux; \
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMANAGE_TESTS=OFF \
          -DCMAKE_RUNTIME_OUTPUT_DIRECTORY=/src/out; \
    cmake --build build --target manage --parallel "$(nproc)"; \
    strip /src/out/manage

# ---- ContainerPilot and Consul, checksum-verified ----
FROM debian:bookworm-slim AS fetch
# Checksums of exactly these releases: change them together with the versions.
ARG CONTAINERPILOT_VERSION=3.8.0
ARG CONTAINERPILOT_SHA1=84642c13683ddae6ccb63386e6160e8cb2439c26
ARG CONSUL_VERSION=1.9.17
ARG CONSUL_SHA256=c0081c0cfc693a4ded45b6a6e0b8679ddc84f6a3659d678ed9742901f39d5e17
RUN set -eux; \
    arch="$(dpkg --print-architecture)"; \
    if [ "$arch" != amd64 ]; then \
        echo "ContainerPilot ${CONTAINERPILOT_VERSION} is amd64 only; build with --platform linux/amd64" >&2; \
        exit 1; \
    fi; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates curl unzip; \
    rm -rf /var/lib/apt/lists/*; \
    mkdir -p /out /tmp/cp /tmp/consul; \
    curl -fsSL -o /tmp/containerpilot.tar.gz \
        "https://github.com/joyent/containerpilot/releases/download/${CONTAINERPILOT_VERSION}/containerpilot-${CONTAINERPILOT_VERSION}.tar.gz"; \
    echo "${CONTAINERPILOT_SHA1}  /tmp/containerpilot.tar.gz" | sha1sum -c -; \
    tar -xzf /tmp/containerpilot.tar.gz -C /tmp/cp; \
    install -m 0755 /tmp/cp/containerpilot /out/containerpilot; \
    curl -fsSL -o /tmp/consul.zip \
        "https://releases.hashicorp.com/consul/${CONSUL_VERSION}/consul_${CONSUL_VERSION}_linux_amd64.zip"; \
    echo "${CONSUL_SHA256}  /tmp/consul.zip" | sha256sum -c -; \
    unzip -q /tmp/consul.zip -d /tmp/consul; \
    install -m 0755 /tmp/consul/consul /out/consul

# ---- the node ----
FROM debian:bookworm-slim
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        mariadb-server mariadb-backup \
        libcurl4 libmariadb3 libfmt9 libssl3 libzstd1 zlib1g libmicrohttpd12 ca-certificates tzdata; \
    # mariadb-binlog, with which a point-in-time restore replays the archive.
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-client; \
    rm -rf /var/lib/apt/lists/*; \
    # The package initialises /var/lib/mysql at install time; a node must start
    # with an empty datadir so that pre_start restores a snapshot or initialises it.
    rm -rf /var/lib/mysql; \
    # pre_start renders /etc/mysql/my.cnf (a symlink to Debian's config here).
    rm -f /etc/mysql/my.cnf; \
    mkdir -p /var/lib/mysql /run/mysqld /var/lib/manage /etc/manage \
             /var/lib/consul /etc/consul; \
    chown mysql:mysql /var/lib/mysql /run/mysqld /var/lib/manage

COPY --from=fetch /out/containerpilot /out/consul /usr/local/bin/
COPY --from=build /src/out/manage /usr/local/bin/manage
COPY containerpilot/containerpilot.json5 /etc/containerpilot.json5
COPY containerpilot/my.cnf.tmpl /etc/manage/my.cnf.tmpl
# Fail the build, not the first start, if a shared library is missing
# (libcurl is loaded only by the commands that use an object store: check it too).
RUN set -eux; \
    if ldd /usr/local/bin/manage | grep 'not found'; then exit 1; fi; \
    test -e "$(ldconfig -p | awk '/libcurl.so.4 / {print $NF; exit}')"; \
    containerpilot -version; \
    consul version

ENV CONTAINERPILOT=/etc/containerpilot.json5
# 3306: mysqld; 8008: manage serve (SERVE_PORT)
EXPOSE 3306 8008
ENTRYPOINT ["containerpilot"]
