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
RUN cmake --preset release  && cmake --build --preset release --target vigil

FROM debian:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libpq5 libhiredis0.14 libcpp-httplib0.11 \
      libyaml-cpp0.7 zlib1g libssl3 libre2-9 libprotobuf32 libsnappy1v5 libcrypt1 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/release/agent/app/vigil /usr/local/bin/vigil
COPY rules/ /etc/vigil/rules/
USER nobody
EXPOSE 9633
ENTRYPOINT ["/usr/local/bin/vigil"]
CMD ["--config.file=/etc/vigil/vigil.yml"]
