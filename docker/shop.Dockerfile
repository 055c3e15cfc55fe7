# shop and shop-load from source on Debian 12, with the packages scripts/install-deps.sh installs.
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
    && cmake --build --preset release --target shop shop-load

FROM debian:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libpq5 libhiredis0.14 libcpp-httplib0.11 \
      libyaml-cpp0.7 zlib1g libssl3 libre2-9 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/release/service/shop /usr/local/bin/shop
COPY --from=build /src/build/release/service/shop-load /usr/local/bin/shop-load
RUN useradd --system --uid 10002 --user-group --no-create-home --shell /usr/sbin/nologin shop
USER shop
EXPOSE 8080
# migrate and seed on start (idempotent schema; the data is replaced), then serve
ENTRYPOINT ["/bin/sh", "-c", "shop seed ${SHOP_SEED_ARGS:-} && exec shop serve --listen 0.0.0.0:8080 --enable-admin"]
