/*
 * libpfkey-unix.so: run an unmodified PF_KEY client (charon, racoon, setkey)
 * against fastipsec's ipsecd instead of the kernel.
 *
 *   LD_PRELOAD=lib/libpfkey-unix.so PFKEY_SOCKET=/run/ipsecd/pfkey.sock charon
 *
 * socket(PF_KEY, SOCK_RAW, PF_KEY_V2) becomes a SOCK_SEQPACKET Unix socket
 * connected to $PFKEY_SOCKET (default /run/ipsecd/pfkey.sock). SOCK_SEQPACKET
 * keeps one PF_KEY message per datagram, so send/write/recv/read/select/poll
 * and recv(MSG_PEEK) of the header before the whole message behave as on a
 * PF_KEY socket. SOCK_CLOEXEC and SOCK_NONBLOCK in the type are honoured.
 *
 * setsockopt at SOL_SOCKET (SO_RCVBUF, SO_SNDBUF, ...) goes to the Unix
 * socket as is; an option at another level, which a Unix socket rejects, is
 * accepted and ignored on a socket made here, as PF_KEY itself ignores it.
 * Every other call, and every other socket, is left alone.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef PF_KEY
#define PF_KEY 15
#endif
#ifndef PF_KEY_V2
#define PF_KEY_V2 2
#endif

#define DEFAULT_SOCKET "/run/ipsecd/pfkey.sock"

typedef int (*socket_fn)(int, int, int);
typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);

static const char *socket_path(void)
{
	const char *p = getenv("PFKEY_SOCKET");
	return (p != NULL && *p != '\0') ? p : DEFAULT_SOCKET;
}

/* fill_addr writes the server's address; 0 or -1 with errno ENAMETOOLONG. */
static int fill_addr(struct sockaddr_un *sun, socklen_t *len)
{
	const char *path = socket_path();
	size_t n = strlen(path);

	if (n >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n + 1);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

static int pfkey_socket(socket_fn real, int flags)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, err;

	if (fill_addr(&sun, &len) < 0)
		return -1;
	/* Connect blocking, then switch: a nonblocking connect may say EAGAIN. */
	fd = real(AF_UNIX, SOCK_SEQPACKET | (flags & SOCK_CLOEXEC), 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, len) < 0)
		goto fail;
	if ((flags & SOCK_NONBLOCK) != 0) {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			goto fail;
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* Sockets made here, by descriptor: the inode of each, so a descriptor
 * closed and reused for another socket is not mistaken for one of ours. */
#define TRACKED 4096
static ino_t tracked[TRACKED];

static void track(int fd)
{
	struct stat st;

	if (fd >= 0 && fd < TRACKED && fstat(fd, &st) == 0)
		__atomic_store_n(&tracked[fd], st.st_ino, __ATOMIC_RELEASE);
}

/* is_pfkey reports whether fd is a socket this library made. */
static int is_pfkey(int fd)
{
	struct stat st;
	ino_t ino;

	if (fd < 0 || fd >= TRACKED)
		return 0;
	ino = __atomic_load_n(&tracked[fd], __ATOMIC_ACQUIRE);
	return ino != 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == ino;
}

int socket(int domain, int type, int protocol)
{
	static socket_fn cached;
	socket_fn real = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
	int flags = type & (SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (real == NULL) {
		real = (socket_fn)dlsym(RTLD_NEXT, "socket");
		__atomic_store_n(&cached, real, __ATOMIC_RELEASE);
		if (real == NULL) {
			errno = ENOSYS;
			return -1;
		}
	}
	if (domain == PF_KEY && (type & ~flags) == SOCK_RAW && protocol == PF_KEY_V2) {
		int fd = pfkey_socket(real, flags);
		track(fd);
		return fd;
	}
	return real(domain, type, protocol);
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static setsockopt_fn cached;
	setsockopt_fn real = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
	int err, r;

	if (real == NULL) {
		real = (setsockopt_fn)dlsym(RTLD_NEXT, "setsockopt");
		__atomic_store_n(&cached, real, __ATOMIC_RELEASE);
		if (real == NULL) {
			errno = ENOSYS;
			return -1;
		}
	}
	r = real(fd, level, name, val, len);
	if (r == 0 || level == SOL_SOCKET)
		return r;
	err = errno;
	if ((err == ENOPROTOOPT || err == EOPNOTSUPP) && is_pfkey(fd))
		return 0;
	errno = err;
	return r;
}
