// cpp-httplib 0.11.4 listens with a backlog of 5 (a compile-time constant of the shared
// library), so a burst of new connections overflows the accept queue and the dropped SYNs are
// retried by clients after 1 s. Linux lets listen() be called again on a listening socket to
// change its backlog; RaiseListenBacklog finds this process's listening socket bound to `port`
// and raises its backlog to 1024.
#pragma once

namespace vigil {

void RaiseListenBacklog(int port);

}  // namespace vigil
