/* test_network.c — unit tests of the node's network parts that need no
 * kernel: the network config keys and the allow-list parser and checks
 * (network_config.c, network_spec.c). The kernel side (bridge, netns,
 * veth, nftables) is tested for real by node_network.bats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/cleanup.h"
#include "node/config.h"
#include "node/network.h"

static void config_network_keys_parse_and_refuse_bad_values(void **state)
{
	struct node_config c;
	struct sn_err e = { 0 };
	assert_int_equal(node_config_defaults(&c, &e), 0);
	assert_string_equal(c.net.default_mode, "none");
	assert_int_equal(c.net.port_base, 10000);
	assert_int_equal(c.net.ports_per_slot, 64);
	assert_int_equal(node_config_parse(&c, "network_default = bridge\nbridge = br-x\n"
				     "bridge_subnet = 10.9.0.0/24\nport_base = 20000\n", "f", &e), 0);
	assert_string_equal(c.net.default_mode, "bridge");
	assert_string_equal(c.net.bridge, "br-x");
	assert_string_equal(c.net.subnet, "10.9.0.0/24");
	assert_int_equal(c.net.port_base, 20000);
	static const char *const bad[] = { "network_default = overlay\n", "bridge = a-name-far-too-long\n",
		"bridge_subnet = 10.9.0.1/24\n", "bridge_subnet = 10.9.0.0/8\n", "port_base = 0\n",
		"nft_table = 1abc\n" };
	for (size_t i = 0; i < SN_ARRAY_SIZE(bad); i++) {
		assert_int_equal(node_config_parse(&c, bad[i], "f", &e), -EINVAL);
		assert_non_null(strstr(e.msg, "f:1"));
	}
	node_config_free(&c);
}

static void allow_list_is_normalized(void **state)
{
	struct sn_err e = { 0 };
	_cleanup_json_ json_t *in = json_pack("{s:[s,s], s:[s]}", "10000-10003/tcp", "172.30.1.2",
					      "10.8.0.0/16", "10010/udp", "0.0.0.0/0");
	_cleanup_json_ json_t *out = NULL;
	assert_int_equal(node_net_parse_allow(in, "PortAllow", &out, &e), 0);
	assert_int_equal(json_array_size(out), 2);
	json_t *a = json_array_get(out, 0);
	assert_string_equal(json_string_value(json_object_get(a, "Proto")), "tcp");
	assert_int_equal(json_integer_value(json_object_get(a, "From")), 10000);
	assert_int_equal(json_integer_value(json_object_get(a, "To")), 10003);
	assert_string_equal(json_string_value(json_array_get(json_object_get(a, "Sources"), 0)), "172.30.1.2/32");
	json_t *b = json_array_get(out, 1);
	assert_string_equal(json_string_value(json_object_get(b, "Proto")), "udp");
	assert_int_equal(json_integer_value(json_object_get(b, "To")), 10010);
}

static void allow_list_refuses_bad_input_naming_the_field(void **state)
{
	static const struct { const char *json, *want; } bad[] = {
		{ "{\"10000/tcp\": [\"10.1.2.3/33\"]}", "PortAllow.10000/tcp[0]" },
		{ "{\"10000/tcp\": [\"10.1.2.3/24\"]}", "no host bits" },
		{ "{\"10000/tcp\": [\"10.1.2.0/24\", \"10.1.2.9\"]}", "overlaps" },
		{ "{\"10000-10005/tcp\": [\"1.2.3.4\"], \"10003/tcp\": [\"1.2.3.4\"]}", "overlaps another" },
		{ "{\"70000/tcp\": [\"1.2.3.4\"]}", "70000/tcp" },
		{ "{\"10/sctp\": [\"1.2.3.4\"]}", "10/sctp" },
		{ "{\"10\": []}", "non-empty" },
		{ "[]", "must be an object" },
	};
	for (size_t i = 0; i < SN_ARRAY_SIZE(bad); i++) {
		struct sn_err e = { 0 };
		_cleanup_json_ json_t *in = json_loads(bad[i].json, 0, NULL), *out = NULL;
		assert_non_null(in);
		assert_int_equal(node_net_parse_allow(in, "PortAllow", &out, &e), -EINVAL);
		if (!strstr(e.msg, bad[i].want))
			fail_msg("%s: `%s` lacks `%s`", bad[i].json, e.msg, bad[i].want);
	}
}

static void allow_list_must_lie_inside_published_ports(void **state)
{
	struct sn_err e = { 0 };
	_cleanup_json_ json_t *ports = json_pack("[{s:s, s:i, s:i}]", "Proto", "tcp", "First", 10000, "Last", 10063);
	_cleanup_json_ json_t *in = json_pack("{s:[s]}", "10000-10063", "1.2.3.4"), *ok = NULL;
	assert_int_equal(node_net_parse_allow(in, "PortAllow", &ok, &e), 0);
	assert_int_equal(node_net_check_allow(ok, ports, "PortAllow", &e), 0);
	_cleanup_json_ json_t *in2 = json_pack("{s:[s]}", "10060-10064", "1.2.3.4"), *out = NULL;
	assert_int_equal(node_net_parse_allow(in2, "PortAllow", &out, &e), 0);
	assert_int_equal(node_net_check_allow(out, ports, "PortAllow", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "10060-10064/tcp are not published"));
	_cleanup_json_ json_t *in3 = json_pack("{s:[s]}", "10000/udp", "1.2.3.4"), *udp = NULL;
	assert_int_equal(node_net_parse_allow(in3, "PortAllow", &udp, &e), 0);
	assert_int_equal(node_net_check_allow(udp, ports, "PortAllow", &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_network_keys_parse_and_refuse_bad_values),
		cmocka_unit_test(allow_list_is_normalized),
		cmocka_unit_test(allow_list_refuses_bad_input_naming_the_field),
		cmocka_unit_test(allow_list_must_lie_inside_published_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
