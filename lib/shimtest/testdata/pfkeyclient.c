/*
 * A PF_KEY client written the way racoon, setkey and charon are: it opens
 * socket(PF_KEY, SOCK_RAW, PF_KEY_V2), tunes buffers with setsockopt, sends
 * SADB_REGISTER, SADB_ADD and SADB_GET with send, write and sendmsg, and reads
 * each reply by peeking at the header first (MSG_PEEK), as libipsec does.
 * One line per step on stdout; exit 1 on the first failure.
 *
 * Run it under LD_PRELOAD=libpfkey-unix.so with PFKEY_SOCKET set.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/pfkeyv2.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define SPI 0x1000u

static void die(const char *what)
{
	printf("FAIL %s: %s\n", what, strerror(errno));
	exit(1);
}

static size_t put_address(uint8_t *p, uint16_t exttype, const char *a4)
{
	struct sadb_address *ad = (struct sadb_address *)p;
	struct sockaddr_in *sin = (struct sockaddr_in *)(ad + 1);
	size_t n = sizeof(*ad) + sizeof(*sin); /* 8 + 16: a multiple of 8 */

	memset(p, 0, n);
	ad->sadb_address_len = n / 8;
	ad->sadb_address_exttype = exttype;
	ad->sadb_address_proto = 255; /* IPSEC_PROTO_ANY */
	ad->sadb_address_prefixlen = 32;
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, a4, 4);
	return n;
}

static size_t put_sa(uint8_t *p, uint8_t encrypt)
{
	struct sadb_sa *sa = (struct sadb_sa *)p;

	memset(sa, 0, sizeof(*sa));
	sa->sadb_sa_len = sizeof(*sa) / 8;
	sa->sadb_sa_exttype = SADB_EXT_SA;
	sa->sadb_sa_spi = htonl(SPI);
	sa->sadb_sa_replay = 4;
	sa->sadb_sa_state = SADB_SASTATE_MATURE;
	sa->sadb_sa_encrypt = encrypt;
	return sizeof(*sa);
}

/* message builds a request of type t: header, SA, addresses, and for ADD an
 * SA2 (transport mode) and an AES-GCM-16 key of 128 + 32 salt bits. */
static size_t message(uint8_t *buf, uint8_t t, uint32_t seq)
{
	static const char src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
	struct sadb_msg *m = (struct sadb_msg *)buf;
	size_t n = sizeof(*m);

	memset(m, 0, sizeof(*m));
	m->sadb_msg_version = PF_KEY_V2;
	m->sadb_msg_type = t;
	m->sadb_msg_satype = SADB_SATYPE_ESP;
	m->sadb_msg_seq = seq;
	m->sadb_msg_pid = (uint32_t)getpid();
	if (t != SADB_REGISTER) {
		n += put_sa(buf + n, t == SADB_ADD ? SADB_X_EALG_AES_GCM_ICV16 : 0);
		n += put_address(buf + n, SADB_EXT_ADDRESS_SRC, src);
		n += put_address(buf + n, SADB_EXT_ADDRESS_DST, dst);
	}
	if (t == SADB_ADD) {
		struct sadb_x_sa2 *sa2 = (struct sadb_x_sa2 *)(buf + n);
		struct sadb_key *k;
		int i;

		memset(sa2, 0, sizeof(*sa2));
		sa2->sadb_x_sa2_len = sizeof(*sa2) / 8;
		sa2->sadb_x_sa2_exttype = SADB_X_EXT_SA2;
		sa2->sadb_x_sa2_mode = 1; /* IPSEC_MODE_TRANSPORT */
		n += sizeof(*sa2);
		k = (struct sadb_key *)(buf + n);
		memset(k, 0, sizeof(*k) + 24);
		k->sadb_key_len = (sizeof(*k) + 24) / 8;
		k->sadb_key_exttype = SADB_EXT_KEY_ENCRYPT;
		k->sadb_key_bits = 160;
		for (i = 0; i < 20; i++)
			((uint8_t *)(k + 1))[i] = (uint8_t)(i + 1);
		n += sizeof(*k) + 24;
	}
	m->sadb_msg_len = n / 8;
	return n;
}

/* wait_readable waits up to 5 s with select, as racoon does. */
static void wait_readable(int fd)
{
	fd_set rd;
	struct timeval tv = {5, 0};

	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	if (select(fd + 1, &rd, NULL, NULL, &tv) != 1) {
		errno = ETIMEDOUT;
		die("select");
	}
}

/* receive reads one message the libipsec way: peek at the header, then read
 * exactly sadb_msg_len * 8 bytes. It skips messages with another seq. */
static ssize_t receive(int fd, uint8_t *buf, size_t cap, uint32_t seq, int use_read)
{
	for (;;) {
		struct sadb_msg hdr;
		size_t want;
		ssize_t n;

		wait_readable(fd);
		n = recv(fd, &hdr, sizeof(hdr), MSG_PEEK);
		if (n != (ssize_t)sizeof(hdr))
			die("recv MSG_PEEK");
		want = (size_t)hdr.sadb_msg_len * 8;
		if (want < sizeof(hdr) || want > cap) {
			errno = EMSGSIZE;
			die("header length");
		}
		n = use_read ? read(fd, buf, want) : recv(fd, buf, want, 0);
		if (n != (ssize_t)want) {
			printf("FAIL short message: got %zd want %zu\n", n, want);
			exit(1);
		}
		if (((struct sadb_msg *)buf)->sadb_msg_seq == seq)
			return n;
	}
}

/* report prints the reply's type, errno and the extension types it carries. */
static void report(const char *name, const uint8_t *buf, size_t n)
{
	const struct sadb_msg *m = (const struct sadb_msg *)buf;
	size_t off = sizeof(*m);

	printf("%s type=%u errno=%u satype=%u exts=", name, m->sadb_msg_type, m->sadb_msg_errno,
	       m->sadb_msg_satype);
	while (off + sizeof(struct sadb_ext) <= n) {
		const struct sadb_ext *e = (const struct sadb_ext *)(buf + off);
		if (e->sadb_ext_len == 0)
			break;
		printf("%s%u", off == sizeof(*m) ? "" : ",", e->sadb_ext_type);
		if (e->sadb_ext_type == SADB_EXT_SA)
			printf("(spi=0x%08x)", ntohl(((const struct sadb_sa *)e)->sadb_sa_spi));
		off += (size_t)e->sadb_ext_len * 8;
	}
	printf("\n");
}

int main(void)
{
	uint8_t out[512], in[65536];
	size_t n;
	ssize_t r;
	int fd, nb, inet, pair[2], one = 1, size = 1 << 20;
	struct pollfd pfd;
	struct iovec iov;
	struct msghdr mh;

	fd = socket(PF_KEY, SOCK_RAW | SOCK_CLOEXEC, PF_KEY_V2);
	if (fd < 0)
		die("socket");
	printf("socket cloexec=%d\n", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) < 0)
		die("SO_SNDBUF");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		die("SO_RCVBUF");
	if (setsockopt(fd, SOL_IP, 1234, &one, sizeof(one)) < 0)
		die("setsockopt at another level");
	printf("setsockopt ok\n");

	/* REGISTER with send, reply read with recv. */
	n = message(out, SADB_REGISTER, 1);
	if (send(fd, out, n, 0) != (ssize_t)n)
		die("send REGISTER");
	r = receive(fd, in, sizeof(in), 1, 0);
	report("REGISTER", in, (size_t)r);

	/* ADD with write, reply read with read, after poll. */
	n = message(out, SADB_ADD, 2);
	if (write(fd, out, n) != (ssize_t)n)
		die("write ADD");
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 5000) != 1)
		die("poll");
	r = receive(fd, in, sizeof(in), 2, 1);
	report("ADD", in, (size_t)r);

	/* GET with sendmsg. */
	n = message(out, SADB_GET, 3);
	iov.iov_base = out;
	iov.iov_len = n;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (sendmsg(fd, &mh, 0) != (ssize_t)n)
		die("sendmsg GET");
	r = receive(fd, in, sizeof(in), 3, 0);
	report("GET", in, (size_t)r);

	/* A nonblocking PF_KEY socket with nothing queued says EAGAIN at once. */
	nb = socket(PF_KEY, SOCK_RAW | SOCK_NONBLOCK, PF_KEY_V2);
	if (nb < 0)
		die("socket SOCK_NONBLOCK");
	r = recv(nb, in, sizeof(in), 0);
	printf("nonblock recv=%zd eagain=%d\n", r, r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	close(nb);

	/* Other sockets are left alone. */
	inet = socket(AF_INET, SOCK_DGRAM, 0);
	if (inet < 0)
		die("socket AF_INET");
	r = setsockopt(inet, SOL_IP, 1234, &one, sizeof(one));
	printf("inet untouched=%d\n", r < 0);
	close(inet);

	/* A descriptor of ours closed and reused by another socket is not ours. */
	close(fd);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair) < 0)
		die("socketpair");
	r = setsockopt(pair[0], SOL_IP, 1234, &one, sizeof(one));
	printf("reused fd=%d untouched=%d\n", pair[0] == fd, r < 0);
	close(pair[0]);
	close(pair[1]);
	return 0;
}
