/*
 * W1 peer "osl-c": the request sequence nsbox's osl port makes for one sandbox, in C with
 * libmnl, one request per round trip: the floor for those semantics in any language.
 *
 * Per sandbox (cf. bench/w1.bench.ts):
 *   Sandbox.create      unshare + bind mount (thread switched back), netlink socket, lo up
 *   host link.add       veth, host end master+up, peer eth0 born in the netns, 1 queue each
 *                       way; then addr_gen_mode none on the host end (a second request)
 *   addInterface        get eth0, route dump (conflict check), address, disable_ipv6=1
 *                       (/proc/sys in the netns), eth0 up
 *   setGateway          default route via 10.88.0.1 (the kernel picks the device)
 * Teardown: close, umount + unlink each netns file, then wait until pbbr0 has no ports.
 *
 * Follows the peer contract of ../shared/bench/lib/common.sh (PB_RESULT, PB_VERIFY), so
 *   gcc -O2 -o /tmp/osl-c bench/c/osl-sequence.c -lmnl
 *   PEERS="g-fast osl-c nsbox" PEER_CMD_osl_c=/tmp/osl-c PEER_CMD_nsbox="node dist/bench/w1.bench.js" ./run-all.sh 100
 * compares it side by side. Needs libmnl-dev (the harness's install-deps.sh has it).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#define die(...) do { fprintf(stderr, __VA_ARGS__); fprintf(stderr, " (errno %d %s)\n", errno, strerror(errno)); exit(1); } while (0)

static unsigned seq;
static char buf[16384], rb[65536];

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Send one request; read until its ACK (or NLMSG_DONE); *index gets an RTM_NEWLINK's ifindex. */
static void talk(struct mnl_socket *s, struct nlmsghdr *n, int *index, const char *what) {
	if (mnl_socket_sendto(s, n, n->nlmsg_len) < 0) die("send %s", what);
	for (;;) {
		int r = mnl_socket_recvfrom(s, rb, sizeof rb);
		if (r < 0) die("recv %s", what);
		for (struct nlmsghdr *m = (struct nlmsghdr *)rb; mnl_nlmsg_ok(m, r); m = mnl_nlmsg_next(m, &r)) {
			if (m->nlmsg_type == NLMSG_ERROR) {
				int e = ((struct nlmsgerr *)mnl_nlmsg_get_payload(m))->error;
				if (e) { errno = -e; die("%s", what); }
				return;
			}
			if (m->nlmsg_type == NLMSG_DONE) return;
			if (m->nlmsg_type == RTM_NEWLINK && index) *index = ((struct ifinfomsg *)mnl_nlmsg_get_payload(m))->ifi_index;
		}
	}
}

static struct nlmsghdr *msg(int type, int flags) {
	struct nlmsghdr *n = mnl_nlmsg_put_header(buf);
	n->nlmsg_type = type;
	n->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	n->nlmsg_seq = ++seq;
	return n;
}

static void ifi(struct nlmsghdr *n, int index, unsigned flags, unsigned change) {
	struct ifinfomsg *i = mnl_nlmsg_put_extra_header(n, sizeof *i);
	i->ifi_index = index;
	i->ifi_flags = flags;
	i->ifi_change = change;
}

static void addr4(struct nlmsghdr *n, int index, uint32_t a) {
	struct ifaddrmsg *ia = mnl_nlmsg_put_extra_header(n, sizeof *ia);
	ia->ifa_family = AF_INET;
	ia->ifa_prefixlen = 16;
	ia->ifa_index = index;
	mnl_attr_put_u32(n, IFA_LOCAL, a);
	mnl_attr_put_u32(n, IFA_ADDRESS, a);
}

static struct mnl_socket *nl_open(void) {
	struct mnl_socket *s = mnl_socket_open(NETLINK_ROUTE);
	if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) die("netlink socket");
	return s;
}

static int bridge_ports(void) {
	int ports = 0;
	DIR *d = opendir("/sys/class/net/pbbr0/brif");
	for (struct dirent *e; d && (e = readdir(d));) ports += e->d_name[0] != '.';
	if (d) closedir(d);
	return ports;
}

int main(int argc, char **argv) {
	int N = argc > 1 ? atoi(argv[1]) : 100;
	int host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	struct mnl_socket *host = nl_open();
	struct mnl_socket **socks = calloc(N + 1, sizeof *socks);
	int *nsfds = calloc(N + 1, sizeof *nsfds);
	uint32_t gw = inet_addr("10.88.0.1");
	char path[64], name[IFNAMSIZ];

	struct nlmsghdr *n = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL); /* pbbr0, untimed */
	ifi(n, 0, IFF_UP, IFF_UP);
	mnl_attr_put_strz(n, IFLA_IFNAME, "pbbr0");
	struct nlattr *li = mnl_attr_nest_start(n, IFLA_LINKINFO);
	mnl_attr_put_strz(n, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(n, li);
	talk(host, n, NULL, "bridge");
	int br = if_nametoindex("pbbr0");
	n = msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	addr4(n, br, gw);
	talk(host, n, NULL, "bridge address");

	double smarks[10], tmarks[10];
	int step = N >= 10 ? N / 10 : 1, sm = 0, tm = 0;
	double t0 = now();
	for (int i = 1; i <= N; i++) {
		snprintf(path, sizeof path, "/run/netns/pb%d", i);
		int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (fd < 0) die("create %s", path);
		close(fd);
		if (unshare(CLONE_NEWNET)) die("unshare");
		nsfds[i] = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL)) die("mount %s", path);
		socks[i] = nl_open();
		if (setns(host_ns, CLONE_NEWNET)) die("setns back");
		struct mnl_socket *s = socks[i];

		n = msg(RTM_NEWLINK, 0); /* lo up */
		ifi(n, 1, IFF_UP, IFF_UP);
		talk(s, n, NULL, "lo up");

		snprintf(name, sizeof name, "pbv%d", i);
		n = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
		ifi(n, 0, IFF_UP, IFF_UP);
		mnl_attr_put_u32(n, IFLA_MASTER, br);
		mnl_attr_put_u32(n, IFLA_NUM_TX_QUEUES, 1);
		mnl_attr_put_u32(n, IFLA_NUM_RX_QUEUES, 1);
		mnl_attr_put_strz(n, IFLA_IFNAME, name);
		struct nlattr *l = mnl_attr_nest_start(n, IFLA_LINKINFO);
		mnl_attr_put_strz(n, IFLA_INFO_KIND, "veth");
		struct nlattr *d = mnl_attr_nest_start(n, IFLA_INFO_DATA);
		struct nlattr *p = mnl_attr_nest_start(n, VETH_INFO_PEER);
		ifi(n, 0, 0, 0);
		mnl_attr_put_u32(n, IFLA_NUM_TX_QUEUES, 1);
		mnl_attr_put_u32(n, IFLA_NUM_RX_QUEUES, 1);
		mnl_attr_put_u32(n, IFLA_NET_NS_FD, nsfds[i]);
		mnl_attr_put_strz(n, IFLA_IFNAME, "eth0");
		mnl_attr_nest_end(n, p);
		mnl_attr_nest_end(n, d);
		mnl_attr_nest_end(n, l);
		talk(host, n, NULL, "veth");

		n = msg(RTM_NEWLINK, 0); /* addr_gen_mode none on the host end */
		ifi(n, 0, 0, 0);
		mnl_attr_put_strz(n, IFLA_IFNAME, name);
		struct nlattr *af = mnl_attr_nest_start(n, IFLA_AF_SPEC);
		struct nlattr *in6 = mnl_attr_nest_start(n, AF_INET6);
		mnl_attr_put_u8(n, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
		mnl_attr_nest_end(n, in6);
		mnl_attr_nest_end(n, af);
		talk(host, n, NULL, "addrgenmode");

		int eth0 = 0;
		n = msg(RTM_GETLINK, 0);
		ifi(n, 0, 0, 0);
		mnl_attr_put_u32(n, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
		mnl_attr_put_strz(n, IFLA_IFNAME, "eth0");
		talk(s, n, &eth0, "get eth0");

		n = msg(RTM_GETROUTE, NLM_F_DUMP);
		struct rtmsg *rt = mnl_nlmsg_put_extra_header(n, sizeof *rt);
		rt->rtm_family = AF_INET;
		talk(s, n, NULL, "route dump");

		n = msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
		addr4(n, eth0, htonl(0x0a580000u | ((i / 200) << 8) | (i % 200 + 10)));
		talk(s, n, NULL, "address");

		if (setns(nsfds[i], CLONE_NEWNET)) die("setns in");
		int f = open("/proc/sys/net/ipv6/conf/eth0/disable_ipv6", O_WRONLY | O_CLOEXEC);
		if (f < 0 || write(f, "1\n", 2) != 2) die("disable_ipv6");
		close(f);
		if (setns(host_ns, CLONE_NEWNET)) die("setns back");

		n = msg(RTM_NEWLINK, 0);
		ifi(n, eth0, IFF_UP, IFF_UP);
		talk(s, n, NULL, "eth0 up");

		n = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
		rt = mnl_nlmsg_put_extra_header(n, sizeof *rt);
		rt->rtm_family = AF_INET;
		rt->rtm_table = RT_TABLE_MAIN;
		rt->rtm_protocol = RTPROT_BOOT;
		rt->rtm_scope = RT_SCOPE_UNIVERSE;
		rt->rtm_type = RTN_UNICAST;
		mnl_attr_put_u32(n, RTA_GATEWAY, gw);
		talk(s, n, NULL, "default route");

		if ((i % step == 0 || i == N) && sm < 10) smarks[sm++] = now() - t0;
	}
	double setup = now() - t0;

	const char *verify = getenv("PB_VERIFY");
	if (verify && *verify) {
		snprintf(buf, sizeof buf, "%s %d", verify, N);
		if (system(buf)) die("verify failed");
	}

	t0 = now();
	for (int i = 1; i <= N; i++) {
		snprintf(path, sizeof path, "/run/netns/pb%d", i);
		mnl_socket_close(socks[i]);
		close(nsfds[i]);
		if (umount2(path, MNT_DETACH) || unlink(path)) die("remove %s", path);
		if ((i % step == 0 || i == N) && tm < 10) tmarks[tm++] = now() - t0;
	}
	for (double w = now(); bridge_ports() > 0 && now() - w < 60;) usleep(1000);
	double teardown = now() - t0;
	tmarks[tm - 1] = teardown;
	if (verify && *verify) {
		snprintf(buf, sizeof buf, "%s %d post", verify, N);
		if (system(buf)) die("post-verify failed");
	}

	long rss = 0;
	FILE *st = fopen("/proc/self/status", "r");
	for (char line[256]; st && fgets(line, sizeof line, st);)
		if (!strncmp(line, "VmHWM:", 6)) rss = atol(line + 6);
	if (st) fclose(st);
	printf("PB_RESULT setup_s=%.6f teardown_s=%.6f rss_kb=%ld rss_kind=proc smarks=", setup, teardown, rss);
	for (int k = 0; k < sm; k++) printf("%s%.6f", k ? "," : "", smarks[k]);
	printf(" tmarks=");
	for (int k = 0; k < tm; k++) printf("%s%.6f", k ? "," : "", tmarks[k]);
	printf("\n");
	return 0;
}
