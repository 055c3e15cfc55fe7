# vigil from source on Debian 12, with the packages scripts/install-deps.sh installs.
# Build context: the repository root (docker-compose.yml sets it).
FROM debian:bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
      prometheus-cpp-dev libpq-dev libhiredis-dev libcpp-httplib-dev libyaml-cpp-dev \
      zlib1g-dev libssl-dev libre2-dev nlohmann-json3-dev catch2 libcrypt-dev \
      libprotobuf-dev protobuf-compiler libsnappy-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake --preset release -DVIGIL_BUILD_TESTS=OFF -DVIGIL_BUILD_BENCH=OFF \
    && cmake --build --preset release --target vigil

FROM debian:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libpq5 libhiredis0.14 libcpp-httplib0.11 \
      libyaml-cpp0.7 zlib1g libssl3 libre2-9 libprotobuf32 libsnappy1v5 libcrypt1 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# A user of its own (fixed uid, for volume permissions); /var/lib/vigil for storage.path.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/vigil --create-home \
      --shell /usr/sbin/nologin vigil
COPY --from=build /src/build/release/agent/app/vigil /usr/local/bin/vigil
# The layout of the Debian package: its default configuration and the shipped rules.
COPY --chown=root:vigil packaging/vigil.yml /etc/vigil/vigil.yml
COPY rules/shipped/*.yml /usr/share/vigil/rules/
USER vigil
EXPOSE 9633
ENTRYPOINT ["/usr/local/bin/vigil"]
# Inside a container the agent must listen beyond loopback (publish the port on 127.0.0.1).
CMD ["--config.file=/etc/vigil/vigil.yml", "--web.listen-address=0.0.0.0:9633"]
