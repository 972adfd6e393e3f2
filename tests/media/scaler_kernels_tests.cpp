#include <boost/test/unit_test.hpp>

#include "media/ffmpeg/scaler_kernels.hpp"

using namespace onair::media::ffmpeg;

BOOST_AUTO_TEST_SUITE(scaler_kernels)

BOOST_AUTO_TEST_CASE(the_kernel_without_gathers_is_chosen_only_when_clearly_faster_and_giving_the_same_picture) {
  // Given this machine's libswscale, when its kernels are timed
  const auto& c = choose_scaler_kernels();
  BOOST_TEST_MESSAGE("scaler kernels: " << describe(c));
  // then a measured choice has both timings, and follows them
  if (c.measured) {
    BOOST_TEST(c.with_gathers_ms > 0);
    BOOST_TEST(c.without_gathers_ms > 0);
    BOOST_TEST(c.same_pictures, "libswscale's two kernels scaled the same picture differently: " << describe(c));
    BOOST_TEST(c.gathers == !(c.same_pictures && c.without_gathers_ms < c.with_gathers_ms * clearly_faster),
               describe(c));
    BOOST_TEST(describe(c).find(c.gathers ? ": with gathers" : ": without gathers") != std::string::npos, describe(c));
  } else {
    BOOST_TEST(c.gathers);
    BOOST_TEST(describe(c).find("FFmpeg's own choice") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(the_choice_is_made_once_per_process) {
  // Given a first choice, when asked again, then the same one comes back without measuring again
  const auto& first = choose_scaler_kernels();
  const auto& second = choose_scaler_kernels();
  BOOST_TEST(&first == &second);
  BOOST_TEST(first.with_gathers_ms == second.with_gathers_ms);
}

BOOST_AUTO_TEST_SUITE_END()
