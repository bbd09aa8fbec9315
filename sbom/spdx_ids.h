// This file implements the lookup of SPDX licence ids as the CycloneDX schema
// lists them (spdx.schema.json). Matching is exact and case-sensitive, as the
// schema's enum is: "MIT" is an id, "mit" is not.
#pragma once

#include <cstddef>
#include <string_view>

namespace pedigree {

/// True when `id` is exactly one of the SPDX licence ids of spdx.schema.json.
bool is_spdx_license_id(std::string_view id);

/// How many ids the table holds.
size_t spdx_license_id_count();

/// The i-th id in byte order (empty past the end).
std::string_view spdx_license_id_at(size_t i);

}  // namespace pedigree
