#define BOOST_TEST_MODULE onair_player
#include <boost/test/unit_test.hpp>
