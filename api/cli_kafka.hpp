#pragma once
// The Kafka side of the command line: `onair events tail` and `onair dev-broker`.
#include <string>
#include <vector>

namespace onair::api {

class kafka_service;

// One line for the serve banner: the bootstrap address and topic, or "off".
[[nodiscard]] std::string kafka_banner(const kafka_service& k);

int cmd_events(const std::vector<std::string>& args);
int cmd_dev_broker(const std::vector<std::string>& args);

} // namespace onair::api
