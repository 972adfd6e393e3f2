// The kafka test module: the event stream on Kafka through the real binary — kcat against the
// embedded broker, kill -9 and broker outages against `onair dev-broker`, events tail, and a read
// model rebuilt from the topic alone.
#define BOOST_TEST_MODULE onair_kafka
#include <boost/test/unit_test.hpp>
