# Embeds the CycloneDX JSON schemas into pedigree_sbom. They come from the
# pinned npm package (scripts/npm-deps.sh prints its node_modules path; pass it
# as -DPEDIGREE_NPM_MODULES=..., or it is run here) and are checked against
# sbom/schemas.sha256 when the generated source is built.
if(NOT PEDIGREE_NPM_MODULES)
  execute_process(COMMAND ${PROJECT_SOURCE_DIR}/scripts/npm-deps.sh
                  OUTPUT_VARIABLE npm_modules OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE npm_rc)
  if(NOT npm_rc EQUAL 0)
    message(FATAL_ERROR "scripts/npm-deps.sh failed (exit ${npm_rc}); the CycloneDX schemas come from the "
                        "npm package @cyclonedx/cyclonedx-library. Install node and npm, or pass "
                        "-DPEDIGREE_NPM_MODULES=<node_modules dir>.")
  endif()
  set(PEDIGREE_NPM_MODULES "${npm_modules}" CACHE PATH "node_modules with the pinned npm packages" FORCE)
endif()
set(PEDIGREE_SCHEMA_DIR "${PEDIGREE_NPM_MODULES}/@cyclonedx/cyclonedx-library/res/schema")
set(schema_list ${CMAKE_CURRENT_SOURCE_DIR}/schemas.sha256)
file(STRINGS ${schema_list} schema_lines REGEX "^[0-9a-f]+  ")
set(schema_files "")
foreach(line IN LISTS schema_lines)
  string(REGEX REPLACE "^[0-9a-f]+  " "" name "${line}")
  if(NOT EXISTS "${PEDIGREE_SCHEMA_DIR}/${name}")
    message(FATAL_ERROR "CycloneDX schema ${PEDIGREE_SCHEMA_DIR}/${name} is missing: PEDIGREE_NPM_MODULES "
                        "must be the node_modules printed by scripts/npm-deps.sh")
  endif()
  list(APPEND schema_files "${PEDIGREE_SCHEMA_DIR}/${name}")
endforeach()
set(schema_cpp ${CMAKE_CURRENT_BINARY_DIR}/schemas_embedded.cpp)
add_custom_command(
  OUTPUT ${schema_cpp}
  COMMAND ${CMAKE_COMMAND} -DDIR=${PEDIGREE_SCHEMA_DIR} -DLIST=${schema_list} -DOUT=${schema_cpp}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/embed_schemas.cmake
  DEPENDS ${schema_list} ${schema_files} ${CMAKE_CURRENT_SOURCE_DIR}/embed_schemas.cmake ${PROJECT_SOURCE_DIR}/scripts/embed_bytes.cmake
  COMMENT "Checking and embedding the CycloneDX schemas"
  VERBATIM)
target_sources(pedigree_sbom PRIVATE ${schema_cpp})
# valijson is header-only (Debian libvalijson-dev).
find_path(VALIJSON_INCLUDE_DIR valijson/validator.hpp REQUIRED)
target_include_directories(pedigree_sbom PRIVATE ${VALIJSON_INCLUDE_DIR})
