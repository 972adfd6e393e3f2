// The api test module: the `onair` command line and HTTP server, driven as a black box.
#define BOOST_TEST_MODULE onair_api
#include <boost/test/unit_test.hpp>
