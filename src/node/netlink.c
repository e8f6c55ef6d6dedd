/* netlink.c — rtnetlink requests through libmnl (see netlink.h).
 *
 * One request a socket: opened, bound, sent with NLM_F_ACK, the ack read,
 * closed. The costs are a few syscalls; the gain is that a socket never
 * outlives the thread (and so the network namespace) it was made for.
 */
#include "node/netlink.h"
#include "base/cleanup.h"

#include <errno.h>
#include <net/if.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>
#include <time.h>

static void mnl_closep(struct mnl_socket **s) { if (*s) mnl_socket_close(*s); }

/* Send nlh and read the ack: 0 or -errno. */
static int request(struct nlmsghdr *nlh)
{
	_cleanup_(mnl_closep) struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	unsigned seq = (unsigned)time(NULL);
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		return -errno;
	return 0;
}

unsigned nl_ifindex(const char *name)
{
	return if_nametoindex(name);
}

static struct nlmsghdr *link_msg(char *buf, int type, unsigned flags, unsigned index)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)flags;
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)index;
	return nlh;
}

int nl_bridge_add(const char *name, struct sn_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, li);
	int r = request(nlh);
	if (r < 0 && r != -EEXIST)
		return sn_err_set(err, -r, "add bridge `%s`", name);
	return r;
}

int nl_veth_add(const char *host, const char *peer, int nsfd, struct sn_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	struct nlattr *p = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	struct ifinfomsg *pi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pi));
	memset(pi, 0, sizeof(*pi));
	pi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	int r = request(nlh);
	if (r < 0)
		return sn_err_set(err, -r, "add veth `%s`", host);
	return 0;
}

int nl_link_up(const char *name, unsigned master, struct sn_err *err)
{
	unsigned idx = nl_ifindex(name);
	if (!idx)
		return sn_err_msg(err, ENODEV, "link `%s`: no such device", name);
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, idx);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (master)
		mnl_attr_put_u32(nlh, IFLA_MASTER, master);
	int r = request(nlh);
	if (r < 0)
		return sn_err_set(err, -r, "set link `%s` up", name);
	return 0;
}

int nl_link_del(const char *name, struct sn_err *err)
{
	unsigned idx = nl_ifindex(name);
	if (!idx)
		return 0;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, idx);
	int r = request(nlh);
	if (r < 0 && r != -ENODEV)
		return sn_err_set(err, -r, "delete link `%s`", name);
	return 0;
}

int nl_addr_add(const char *name, struct in_addr addr, unsigned prefix, struct sn_err *err)
{
	unsigned idx = nl_ifindex(name);
	if (!idx)
		return sn_err_msg(err, ENODEV, "address on `%s`: no such device", name);
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_index = idx;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	int r = request(nlh);
	if (r < 0 && r != -EEXIST)
		return sn_err_set(err, -r, "add address to `%s`", name);
	return 0;
}

int nl_route_default(struct in_addr gw, struct sn_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw), &gw);
	int r = request(nlh);
	if (r < 0)
		return sn_err_set(err, -r, "add default route");
	return 0;
}
