#define BOOST_TEST_MODULE onair_media
#include <boost/test/unit_test.hpp>
