// This file implements the interface to the CycloneDX JSON schemas embedded at
// build time (sbom/schemas.cmake generates the definition from the pinned npm
// package after checking each file against sbom/schemas.sha256).
#pragma once

#include <cstddef>
#include <vector>

namespace pedigree {

/// One embedded schema file, by its file name in the npm package.
struct EmbeddedSchema {
  const char* name;    ///< e.g. "bom-1.6.SNAPSHOT.schema.json"
  const char* sha256;  ///< hex, as checked at build time
  const unsigned char* data;
  size_t size;
};

/// Every embedded schema, in the order of sbom/schemas.sha256.
const std::vector<EmbeddedSchema>& embedded_schemas();

}  // namespace pedigree
