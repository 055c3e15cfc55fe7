// Config of the scrape collector (`scrape:` entries).
#pragma once

#include "agent/base/config_node.h"
#include "collectors/collector.h"

namespace vigil::collectors {

// Reads `url` (http or https, required), `job`, `instance`, `honor_labels`,
// `basic_auth: {username, password | password_file}`, `bearer_token | bearer_token_file` and
// the limits `body_size_limit` (bytes, units allowed: 16MiB), `sample_limit`, `label_limit`,
// `label_name_length_limit`, `label_value_length_limit` (each > 0; defaults in ScrapeConfig).
void ParseScrapeConfig(const ConfigNode& node, CollectorSpec& spec);

}  // namespace vigil::collectors
