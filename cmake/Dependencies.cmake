# Every third-party library vigil uses comes from Debian bookworm packages
# (scripts/install-deps.sh installs them). Versions are the ones we code against.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)         # TLS (via cpp-httplib) and hashes
find_package(prometheus-cpp REQUIRED)  # 1.0.1; Debian ships no version file
find_package(yaml-cpp REQUIRED)        # 0.7.0
find_package(nlohmann_json REQUIRED)   # 3.11
find_package(Catch2 REQUIRED)          # 2.13 (v2 API)
find_package(Protobuf REQUIRED)        # 3.21; remote write messages (agent/remote)
find_package(Snappy REQUIRED)          # 1.1.9; remote write compression
find_package(ZLIB REQUIRED)            # 1.2.13; the scrape tests make gzip bombs with it
# cpp-httplib 0.11.4 is a compiled library: every user of httplib.h needs its pkg-config
# flags, or the class layout differs from the .so and programs crash.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
