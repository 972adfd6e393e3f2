// The storage test module: event store, crash durability, and the rest of storage/.
#define BOOST_TEST_MODULE onair_storage
#include <boost/test/unit_test.hpp>
