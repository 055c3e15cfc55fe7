// Config of the scrape collector (`scrape:` entries).
#pragma once

#include "agent/config/config_node.h"
#include "collectors/collector.h"

namespace vigil {

// Reads `url` (http or https, required), `job`, `instance`, `sample_limit`, `honor_labels`,
// `basic_auth: {username, password | password_file}` and `bearer_token | bearer_token_file`.
void ParseScrapeConfig(const ConfigNode& node, CollectorSpec& spec);

}  // namespace vigil
