// Whether the test binary runs under a sanitizer, for tests that bound memory or time: ASan's
// shadow memory and quarantine and TSan's shadow (measured: a scrape that peaks at +19 MiB in
// the dev build peaks at +172 MiB under TSan) multiply RSS. Such a bound is scaled by
// kMemoryScale, so that it still catches what it guards against (a 1 GiB inflated gzip bomb)
// in every preset. Instrumented code also runs several times slower (measured: the hostile-
// client test's range queries took up to 30 s under ASan, 2-5 s in dev): latency bounds and
// client timeouts are scaled by kTimeScale, and a load that is CPU work is divided by it.
#pragma once

namespace vigil::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr double kMemoryScale = 4;
inline constexpr double kTimeScale = 5;
#else
inline constexpr double kMemoryScale = 1;
inline constexpr double kTimeScale = 1;
#endif

}  // namespace vigil::testing
