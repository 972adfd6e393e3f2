// The e2e test module: the `onair` binary against real encoders and players (ffmpeg, ffprobe).
#define BOOST_TEST_MODULE onair_e2e
#include <boost/test/unit_test.hpp>
