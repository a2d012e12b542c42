/* LD_PRELOAD shim for the benchmark: turns TCP_NODELAY on for every socket the process
 * connects, so that lettre can be measured without Nagle's algorithm holding back its small
 * writes. Built by bench/run with `cc -shared -fPIC`; used only on the lettre bench program. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    static int (*real_connect)(int, const struct sockaddr *, socklen_t);
    if (!real_connect)
        real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    if (addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)) {
        int on = 1;
        int saved = errno;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on); /* not TCP: harmless EOPNOTSUPP */
        errno = saved;
    }
    return real_connect(fd, addr, len);
}
