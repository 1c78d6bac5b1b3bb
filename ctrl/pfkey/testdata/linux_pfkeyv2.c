/*
 * Builds PF_KEY messages with the structures of the system's
 * <linux/pfkeyv2.h>, independently of the Go codec, and prints them as
 * "name<TAB>hex" lines, plus "sizeof<TAB>struct<TAB>n" lines. The Go test
 * crosscheck_linux_test.go compiles and runs it and compares the bytes
 * with its golden messages of the same names.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/ipsec.h>
#include <linux/pfkeyv2.h>

static unsigned char buf[4096];
static size_t off;

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

static void *grow(size_t n) {
	void *p = buf + off;
	off += ALIGN8(n);
	return p;
}

static void begin(uint8_t type, uint8_t satype, uint32_t seq, uint32_t pid) {
	struct sadb_msg *m;
	memset(buf, 0, sizeof(buf));
	off = 0;
	m = grow(sizeof(*m));
	m->sadb_msg_version = PF_KEY_V2;
	m->sadb_msg_type = type;
	m->sadb_msg_satype = satype;
	m->sadb_msg_seq = seq;
	m->sadb_msg_pid = pid;
}

static void end(const char *name) {
	size_t i;
	((struct sadb_msg *)buf)->sadb_msg_len = off / 8;
	printf("%s\t", name);
	for (i = 0; i < off; i++)
		printf("%02x", buf[i]);
	printf("\n");
}

/* sockaddr writes a sockaddr_in or sockaddr_in6 at p; returns its size. */
static size_t sockaddr(void *p, const char *ip, uint16_t port) {
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s = p;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		inet_pton(AF_INET6, ip, &s->sin6_addr);
		return sizeof(*s);
	}
	struct sockaddr_in *s = p;
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	inet_pton(AF_INET, ip, &s->sin_addr);
	return sizeof(*s);
}

static void address(uint16_t type, uint8_t proto, uint8_t plen, const char *ip, uint16_t port) {
	struct sadb_address *a = grow(sizeof(*a) + (strchr(ip, ':') ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)));
	size_t n = sockaddr(a + 1, ip, port);
	a->sadb_address_len = ALIGN8(sizeof(*a) + n) / 8;
	a->sadb_address_exttype = type;
	a->sadb_address_proto = proto;
	a->sadb_address_prefixlen = plen;
}

static void sa(uint32_t spi, uint8_t replay, uint8_t state, uint8_t auth, uint8_t enc, uint32_t flags) {
	struct sadb_sa *s = grow(sizeof(*s));
	s->sadb_sa_len = sizeof(*s) / 8;
	s->sadb_sa_exttype = SADB_EXT_SA;
	s->sadb_sa_spi = htonl(spi);
	s->sadb_sa_replay = replay;
	s->sadb_sa_state = state;
	s->sadb_sa_auth = auth;
	s->sadb_sa_encrypt = enc;
	s->sadb_sa_flags = flags;
}

static void sa2(uint8_t mode, uint32_t seq, uint32_t reqid) {
	struct sadb_x_sa2 *s = grow(sizeof(*s));
	s->sadb_x_sa2_len = sizeof(*s) / 8;
	s->sadb_x_sa2_exttype = SADB_X_EXT_SA2;
	s->sadb_x_sa2_mode = mode;
	s->sadb_x_sa2_sequence = seq;
	s->sadb_x_sa2_reqid = reqid;
}

static void lifetime(uint16_t type, uint32_t alloc, uint64_t bytes, uint64_t add, uint64_t use) {
	struct sadb_lifetime *l = grow(sizeof(*l));
	l->sadb_lifetime_len = sizeof(*l) / 8;
	l->sadb_lifetime_exttype = type;
	l->sadb_lifetime_allocations = alloc;
	l->sadb_lifetime_bytes = bytes;
	l->sadb_lifetime_addtime = add;
	l->sadb_lifetime_usetime = use;
}

static void key(uint16_t type, uint16_t bits, unsigned char first) {
	size_t n = (bits + 7) / 8, i;
	struct sadb_key *k = grow(sizeof(*k) + n);
	k->sadb_key_len = ALIGN8(sizeof(*k) + n) / 8;
	k->sadb_key_exttype = type;
	k->sadb_key_bits = bits;
	for (i = 0; i < n; i++)
		((unsigned char *)(k + 1))[i] = first + i;
}

static void natt_type(uint8_t t) {
	struct sadb_x_nat_t_type *n = grow(sizeof(*n));
	n->sadb_x_nat_t_type_len = sizeof(*n) / 8;
	n->sadb_x_nat_t_type_exttype = SADB_X_EXT_NAT_T_TYPE;
	n->sadb_x_nat_t_type_type = t;
}

static void natt_port(uint16_t type, uint16_t port) {
	struct sadb_x_nat_t_port *n = grow(sizeof(*n));
	n->sadb_x_nat_t_port_len = sizeof(*n) / 8;
	n->sadb_x_nat_t_port_exttype = type;
	n->sadb_x_nat_t_port_port = htons(port);
}

static void spirange(uint32_t min, uint32_t max) {
	struct sadb_spirange *r = grow(sizeof(*r));
	r->sadb_spirange_len = sizeof(*r) / 8;
	r->sadb_spirange_exttype = SADB_EXT_SPIRANGE;
	r->sadb_spirange_min = min;
	r->sadb_spirange_max = max;
}

static struct sadb_x_policy *policy(uint16_t type, uint8_t dir, uint32_t id, uint32_t prio) {
	struct sadb_x_policy *p = grow(sizeof(*p));
	p->sadb_x_policy_exttype = SADB_X_EXT_POLICY;
	p->sadb_x_policy_type = type;
	p->sadb_x_policy_dir = dir;
	p->sadb_x_policy_id = id;
	p->sadb_x_policy_priority = prio;
	return p;
}

static void request(uint16_t proto, uint8_t mode, uint8_t level, uint32_t reqid, const char *src, const char *dst) {
	struct sadb_x_ipsecrequest *r = grow(sizeof(*r));
	r->sadb_x_ipsecrequest_len = sizeof(*r);
	r->sadb_x_ipsecrequest_proto = proto;
	r->sadb_x_ipsecrequest_mode = mode;
	r->sadb_x_ipsecrequest_level = level;
	r->sadb_x_ipsecrequest_reqid = reqid;
	if (src) {
		unsigned char pair[64] = {0};
		size_t n = sockaddr(pair, src, 0);
		n += sockaddr(pair + n, dst, 0);
		memcpy(grow(n), pair, n);
		r->sadb_x_ipsecrequest_len += ALIGN8(n);
	}
}

static void policy_end(struct sadb_x_policy *p) {
	p->sadb_x_policy_len = (buf + off - (unsigned char *)p) / 8;
}

static void ident(uint16_t type, uint16_t itype, uint64_t id, const char *s, size_t n) {
	struct sadb_ident *i = grow(sizeof(*i) + n);
	i->sadb_ident_len = ALIGN8(sizeof(*i) + n) / 8;
	i->sadb_ident_exttype = type;
	i->sadb_ident_type = itype;
	i->sadb_ident_id = id;
	memcpy(i + 1, s, n);
}

static void supported(uint16_t type, const struct sadb_alg *algs, int n) {
	struct sadb_supported *s = grow(sizeof(*s) + n * sizeof(*algs));
	s->sadb_supported_len = (sizeof(*s) + n * sizeof(*algs)) / 8;
	s->sadb_supported_exttype = type;
	memcpy(s + 1, algs, n * sizeof(*algs));
}

int main(void) {
	/* Structure sizes the codec relies on. */
	printf("sizeof\tsadb_msg\t%zu\n", sizeof(struct sadb_msg));
	printf("sizeof\tsadb_sa\t%zu\n", sizeof(struct sadb_sa));
	printf("sizeof\tsadb_lifetime\t%zu\n", sizeof(struct sadb_lifetime));
	printf("sizeof\tsadb_address\t%zu\n", sizeof(struct sadb_address));
	printf("sizeof\tsadb_key\t%zu\n", sizeof(struct sadb_key));
	printf("sizeof\tsadb_ident\t%zu\n", sizeof(struct sadb_ident));
	printf("sizeof\tsadb_sens\t%zu\n", sizeof(struct sadb_sens));
	printf("sizeof\tsadb_prop\t%zu\n", sizeof(struct sadb_prop));
	printf("sizeof\tsadb_comb\t%zu\n", sizeof(struct sadb_comb));
	printf("sizeof\tsadb_supported\t%zu\n", sizeof(struct sadb_supported));
	printf("sizeof\tsadb_alg\t%zu\n", sizeof(struct sadb_alg));
	printf("sizeof\tsadb_spirange\t%zu\n", sizeof(struct sadb_spirange));
	printf("sizeof\tsadb_x_kmprivate\t%zu\n", sizeof(struct sadb_x_kmprivate));
	printf("sizeof\tsadb_x_sa2\t%zu\n", sizeof(struct sadb_x_sa2));
	printf("sizeof\tsadb_x_policy\t%zu\n", sizeof(struct sadb_x_policy));
	printf("sizeof\tsadb_x_ipsecrequest\t%zu\n", sizeof(struct sadb_x_ipsecrequest));
	printf("sizeof\tsadb_x_nat_t_type\t%zu\n", sizeof(struct sadb_x_nat_t_type));
	printf("sizeof\tsadb_x_nat_t_port\t%zu\n", sizeof(struct sadb_x_nat_t_port));
	printf("sizeof\tsadb_x_sec_ctx\t%zu\n", sizeof(struct sadb_x_sec_ctx));
	printf("sizeof\tsadb_x_kmaddress\t%zu\n", sizeof(struct sadb_x_kmaddress));
	printf("sizeof\tsadb_x_filter\t%zu\n", sizeof(struct sadb_x_filter));

	begin(SADB_ADD, SADB_SATYPE_ESP, 42, 1000);
	sa(0xc0ffee01, 32, 0, SADB_AALG_NONE, SADB_X_EALG_AES_GCM_ICV16, 0);
	sa2(IPSEC_MODE_TUNNEL, 0, 7);
	address(SADB_EXT_ADDRESS_SRC, 0, 0, "192.0.2.1", 0);
	address(SADB_EXT_ADDRESS_DST, 0, 0, "198.51.100.1", 0);
	lifetime(SADB_EXT_LIFETIME_SOFT, 0, 0, 3240, 0);
	lifetime(SADB_EXT_LIFETIME_HARD, 0, 0, 3600, 0);
	key(SADB_EXT_KEY_ENCRYPT, 160, 0);
	natt_type(2);
	natt_port(SADB_X_EXT_NAT_T_SPORT, 4500);
	natt_port(SADB_X_EXT_NAT_T_DPORT, 4500);
	end("lx ADD strongSwan AES-GCM NAT-T");

	begin(SADB_GETSPI, SADB_SATYPE_ESP, 1, 1000);
	sa2(IPSEC_MODE_TUNNEL, 0, 7);
	address(SADB_EXT_ADDRESS_SRC, IPSEC_ULPROTO_ANY, 32, "192.0.2.1", 0);
	address(SADB_EXT_ADDRESS_DST, IPSEC_ULPROTO_ANY, 32, "198.51.100.1", 0);
	spirange(0x100, 0x0fffffff);
	end("lx GETSPI");

	begin(SADB_UPDATE, SADB_SATYPE_ESP, 2, 1000);
	sa(0x1001, 64, SADB_SASTATE_MATURE, SADB_X_AALG_SHA2_256HMAC, SADB_X_EALG_AESCBC, SADB_SAFLAGS_NOECN);
	sa2(IPSEC_MODE_TUNNEL, 0, 7);
	address(SADB_EXT_ADDRESS_SRC, IPSEC_ULPROTO_ANY, 32, "192.0.2.1", 0);
	address(SADB_EXT_ADDRESS_DST, IPSEC_ULPROTO_ANY, 32, "198.51.100.1", 0);
	lifetime(SADB_EXT_LIFETIME_SOFT, 0, 0, 3240, 0);
	lifetime(SADB_EXT_LIFETIME_HARD, 0, 0, 3600, 0);
	key(SADB_EXT_KEY_AUTH, 256, 0x20);
	key(SADB_EXT_KEY_ENCRYPT, 160, 0);
	address(SADB_X_EXT_NAT_T_OA, 0, 32, "10.1.2.3", 0);
	{
		struct sadb_x_sec_ctx *c = grow(sizeof(*c) + 4);
		c->sadb_x_sec_len = ALIGN8(sizeof(*c) + 4) / 8;
		c->sadb_x_sec_exttype = SADB_X_EXT_SEC_CTX;
		c->sadb_x_ctx_alg = 1;
		c->sadb_x_ctx_doi = 1;
		c->sadb_x_ctx_len = 4;
		memcpy(c + 1, "abcd", 4);
	}
	end("lx UPDATE");

	begin(SADB_DELETE, SADB_SATYPE_ESP, 3, 1000);
	sa(0xc0ffee01, 32, SADB_SASTATE_MATURE, SADB_AALG_NONE, SADB_X_EALG_AES_GCM_ICV16, 0);
	address(SADB_EXT_ADDRESS_SRC, IPSEC_ULPROTO_ANY, 128, "2001:db8::1", 0);
	address(SADB_EXT_ADDRESS_DST, IPSEC_ULPROTO_ANY, 128, "2001:db8::2", 0);
	end("lx DELETE IPv6");

	begin(SADB_GET, SADB_SATYPE_ESP, 4, 1000);
	sa(0xc0ffee01, 32, SADB_SASTATE_MATURE, SADB_AALG_NONE, SADB_X_EALG_AES_GCM_ICV16, 0);
	lifetime(SADB_EXT_LIFETIME_CURRENT, 5, 4096, 100000000, 100000016);
	address(SADB_EXT_ADDRESS_SRC, IPSEC_ULPROTO_ANY, 32, "192.0.2.1", 0);
	address(SADB_EXT_ADDRESS_DST, IPSEC_ULPROTO_ANY, 32, "198.51.100.1", 0);
	address(SADB_EXT_ADDRESS_PROXY, 0, 24, "10.0.0.0", 80);
	key(SADB_EXT_KEY_AUTH, 256, 0x20);
	key(SADB_EXT_KEY_ENCRYPT, 160, 0);
	{
		struct sadb_x_kmprivate *k = grow(sizeof(*k) + 8);
		k->sadb_x_kmprivate_len = (sizeof(*k) + 8) / 8;
		k->sadb_x_kmprivate_exttype = SADB_X_EXT_KMPRIVATE;
		memcpy(k + 1, "\xde\xad\xbe\xef", 4);
	}
	end("lx GET reply");

	begin(SADB_ACQUIRE, SADB_SATYPE_ESP, 9, 0);
	address(SADB_EXT_ADDRESS_SRC, IPSEC_ULPROTO_ANY, 32, "192.0.2.1", 0);
	address(SADB_EXT_ADDRESS_DST, IPSEC_ULPROTO_ANY, 32, "198.51.100.1", 0);
	ident(SADB_EXT_IDENTITY_SRC, SADB_IDENTTYPE_FQDN, 0, "vpn.example.com", 16);
	ident(SADB_EXT_IDENTITY_DST, SADB_IDENTTYPE_USERFQDN, 42, "a@b.c", 6);
	{
		struct sadb_sens *s = grow(sizeof(*s) + 8);
		s->sadb_sens_len = (sizeof(*s) + 8) / 8;
		s->sadb_sens_exttype = SADB_EXT_SENSITIVITY;
		s->sadb_sens_dpd = 1;
		s->sadb_sens_sens_level = 2;
		s->sadb_sens_sens_len = 1;
		s->sadb_sens_integ_level = 3;
		((unsigned char *)(s + 1))[0] = 0xff;
	}
	policy_end(policy(IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, 5, 0));
	{
		struct sadb_prop *p = grow(sizeof(*p) + sizeof(struct sadb_comb));
		struct sadb_comb *c = (struct sadb_comb *)(p + 1);
		p->sadb_prop_len = (sizeof(*p) + sizeof(*c)) / 8;
		p->sadb_prop_exttype = SADB_EXT_PROPOSAL;
		p->sadb_prop_replay = 32;
		c->sadb_comb_encrypt = SADB_X_EALG_AES_GCM_ICV16;
		c->sadb_comb_encrypt_minbits = 160;
		c->sadb_comb_encrypt_maxbits = 288;
		c->sadb_comb_soft_addtime = 3240;
		c->sadb_comb_hard_addtime = 3600;
	}
	end("lx ACQUIRE");

	begin(SADB_REGISTER, SADB_SATYPE_ESP, 1, 1000);
	{
		struct sadb_alg a[3] = {{3, 0, 160, 160, 0}, {5, 0, 256, 256, 0}, {9, 0, 128, 128, 0}};
		supported(SADB_EXT_SUPPORTED_AUTH, a, 3);
	}
	{
		struct sadb_alg e[3] = {{SADB_X_EALG_AESCBC, 16, 128, 256, 0},
		    {SADB_X_EALG_AES_GCM_ICV16, 8, 160, 288, 0}, {SADB_X_EALG_NULL_AES_GMAC, 8, 160, 288, 0}};
		supported(SADB_EXT_SUPPORTED_ENCRYPT, e, 3);
	}
	end("lx REGISTER reply");

	begin(SADB_DUMP, SADB_SATYPE_UNSPEC, 0, 1000);
	{
		struct sadb_x_filter *f = grow(sizeof(*f));
		f->sadb_x_filter_len = sizeof(*f) / 8;
		f->sadb_x_filter_exttype = SADB_X_EXT_FILTER;
		inet_pton(AF_INET, "10.0.0.0", f->sadb_x_filter_saddr);
		inet_pton(AF_INET, "10.0.1.0", f->sadb_x_filter_daddr);
		f->sadb_x_filter_family = AF_INET;
		f->sadb_x_filter_splen = 24;
		f->sadb_x_filter_dplen = 24;
	}
	end("lx DUMP with filter");

	begin(SADB_X_SPDUPDATE, SADB_SATYPE_UNSPEC, 5, 1000);
	address(SADB_EXT_ADDRESS_SRC, IPPROTO_TCP, 48, "2001:db8:1::", 443);
	address(SADB_EXT_ADDRESS_DST, IPPROTO_TCP, 48, "2001:db8:2::", 0);
	{
		struct sadb_x_policy *p = policy(IPSEC_POLICY_IPSEC, IPSEC_DIR_FWD, 9, 2000);
		request(IPPROTO_ESP, IPSEC_MODE_TUNNEL, IPSEC_LEVEL_UNIQUE, 100000, "2001:db8::2", "2001:db8::1");
		request(IPPROTO_AH, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_USE, 0, NULL, NULL);
		policy_end(p);
	}
	end("lx X_SPDUPDATE IPv6");

	begin(SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, 1000);
	{
		struct sadb_x_policy *p = policy(IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, 0, 0);
		request(IPPROTO_ESP, IPSEC_MODE_TUNNEL, IPSEC_LEVEL_REQUIRE, 0, "192.0.2.1", "198.51.100.1");
		policy_end(p);
	}
	address(SADB_EXT_ADDRESS_SRC, IPSEC_ULPROTO_ANY, 24, "10.0.0.0", 0);
	address(SADB_EXT_ADDRESS_DST, IPSEC_ULPROTO_ANY, 24, "10.0.1.0", 0);
	end("lx X_SPDADD setkey");

	begin(SADB_X_NAT_T_NEW_MAPPING, SADB_SATYPE_ESP, 0, 0);
	sa(0xc0ffee01, 32, SADB_SASTATE_MATURE, SADB_AALG_NONE, SADB_X_EALG_AES_GCM_ICV16, 0);
	address(SADB_EXT_ADDRESS_SRC, 0, 0, "192.0.2.1", 4501);
	natt_port(SADB_X_EXT_NAT_T_SPORT, 4501);
	address(SADB_EXT_ADDRESS_DST, 0, 0, "198.51.100.1", 4500);
	natt_port(SADB_X_EXT_NAT_T_DPORT, 4500);
	end("lx X_NAT_T_NEW_MAPPING");

	begin(SADB_X_MIGRATE, SADB_SATYPE_UNSPEC, 7, 1000);
	address(SADB_EXT_ADDRESS_SRC, IPSEC_ULPROTO_ANY, 24, "10.0.0.0", 0);
	address(SADB_EXT_ADDRESS_DST, IPSEC_ULPROTO_ANY, 24, "10.0.1.0", 0);
	{
		struct sadb_x_policy *p = policy(IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, 0, 0);
		request(IPPROTO_ESP, IPSEC_MODE_TUNNEL, IPSEC_LEVEL_REQUIRE, 1, "192.0.2.1", "198.51.100.1");
		request(IPPROTO_ESP, IPSEC_MODE_TUNNEL, IPSEC_LEVEL_REQUIRE, 1, "203.0.113.5", "198.51.100.1");
		policy_end(p);
	}
	{
		struct sadb_x_kmaddress *k = grow(sizeof(*k) + 2 * sizeof(struct sockaddr_in));
		size_t n;
		k->sadb_x_kmaddress_len = (sizeof(*k) + 2 * sizeof(struct sockaddr_in)) / 8;
		k->sadb_x_kmaddress_exttype = SADB_X_EXT_KMADDRESS;
		n = sockaddr(k + 1, "192.0.2.1", 0);
		sockaddr((char *)(k + 1) + n, "198.51.100.1", 0);
	}
	end("lx X_MIGRATE");
	return 0;
}
