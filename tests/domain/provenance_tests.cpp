// Provenance: what a command's events record of who asked, and which request ids a client may bring.
#include <boost/test/unit_test.hpp>

#include <string>

#include "domain/provenance.hpp"

using namespace onair::domain;

BOOST_AUTO_TEST_SUITE(provenance_rules)

BOOST_AUTO_TEST_CASE(given_ids_tracing_systems_send_when_checked_then_they_are_kept) {
  BOOST_TEST(valid_request_id("req-7f3a"));
  BOOST_TEST(valid_request_id("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")); // traceparent-like
  BOOST_TEST(valid_request_id("a.b_c:d"));
  BOOST_TEST(valid_request_id(std::string(128, 'x')));
}

BOOST_AUTO_TEST_CASE(given_an_empty_long_or_odd_id_when_checked_then_the_server_makes_its_own) {
  BOOST_TEST(!valid_request_id(""));
  BOOST_TEST(!valid_request_id(std::string(129, 'x')));
  BOOST_TEST(!valid_request_id("has space"));
  BOOST_TEST(!valid_request_id("line\r\nX-Injected: 1"));
  BOOST_TEST(!valid_request_id("quote\""));
  BOOST_TEST(!valid_request_id("caf\xc3\xa9"));
}

BOOST_AUTO_TEST_CASE(given_a_system_component_when_it_acts_then_it_is_its_own_principal_correlated_to_what_it_acts_for) {
  const auto p = provenance::system("archiver", "video_post/1/9");
  BOOST_TEST(p.principal == "system:archiver");
  BOOST_TEST(p.correlation_id == "video_post/1/9");
  BOOST_TEST(p.causation_id == "video_post/1/9");
  BOOST_TEST(p.client_ip.empty());
}

BOOST_AUTO_TEST_CASE(given_a_request_when_a_flow_acts_for_it_then_only_the_cause_changes) {
  provenance req;
  req.principal = "app:ak_1";
  req.client_ip = "203.0.113.7";
  req.user_agent = "curl/8";
  req.request_id = req.correlation_id = req.causation_id = "req-1";
  const auto step = req.caused_by("flow/1/88");
  BOOST_TEST(step.principal == "app:ak_1");
  BOOST_TEST(step.client_ip == "203.0.113.7");
  BOOST_TEST(step.request_id == "req-1");
  BOOST_TEST(step.correlation_id == "req-1");
  BOOST_TEST(step.causation_id == "flow/1/88");
}

BOOST_AUTO_TEST_SUITE_END()
