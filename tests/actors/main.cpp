#define BOOST_TEST_MODULE onair_actors
#include <boost/test/unit_test.hpp>
