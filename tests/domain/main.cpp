#define BOOST_TEST_MODULE onair_domain
#include <boost/test/unit_test.hpp>
