// Clang thread-safety annotations (-Wthread-safety): contracts on which lock guards which
// member and which functions need or take a lock, checked by the compiler instead of comments.
// scripts/check-thread-safety.sh runs clang's analysis over the tree in CI; with g++ the
// macros are empty. Use them with the annotated vigil::Mutex and vigil::SharedMutex
// (agent/base/mutex.h, agent/base/shared_mutex.h): std::mutex and std::lock_guard carry no
// annotations, so the analysis cannot see them.
#pragma once

#if defined(__clang__)
#define VIGIL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define VIGIL_THREAD_ANNOTATION(x)
#endif

// On a class: objects of it are locks (a "capability").
#define CAPABILITY(name) VIGIL_THREAD_ANNOTATION(capability(name))
// On a class: an RAII holder of a lock.
#define SCOPED_CAPABILITY VIGIL_THREAD_ANNOTATION(scoped_lockable)
// On a member: read and written only with the lock held.
#define GUARDED_BY(x) VIGIL_THREAD_ANNOTATION(guarded_by(x))
// On a pointer member: what it points to is guarded by the lock.
#define PT_GUARDED_BY(x) VIGIL_THREAD_ANNOTATION(pt_guarded_by(x))
// On a lock member: locks that must be taken before/after this one.
#define ACQUIRED_BEFORE(...) VIGIL_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) VIGIL_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
// On a function: the caller must hold (exclusively / shared) / must not hold the lock.
#define REQUIRES(...) VIGIL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) VIGIL_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) VIGIL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// On a function: it takes / releases the lock (no argument: `this` is the lock).
#define ACQUIRE(...) VIGIL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) VIGIL_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) VIGIL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) VIGIL_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) VIGIL_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) VIGIL_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define TRY_ACQUIRE_SHARED(...) VIGIL_THREAD_ANNOTATION(try_acquire_shared_capability(__VA_ARGS__))
// On a function: it asserts (at run time or by construction) that the lock is held.
#define ASSERT_CAPABILITY(x) VIGIL_THREAD_ANNOTATION(assert_capability(x))
// On a function: it returns a reference to the lock.
#define RETURN_CAPABILITY(x) VIGIL_THREAD_ANNOTATION(lock_returned(x))
// The analysis is off for this function; say why next to it.
#define NO_THREAD_SAFETY_ANALYSIS VIGIL_THREAD_ANNOTATION(no_thread_safety_analysis)
