# This file implements the one helper both build-time embedders (probe packs,
# CycloneDX schemas) use: a file's bytes as a NUL-terminated C array literal.
# Included by probes/embed_packs.cmake and sbom/embed_schemas.cmake (cmake -P).

# Sets OUT_VAR to "const unsigned char NAME[] = {0x..,...0x00};\n" and SIZE_VAR
# to the file's size in bytes.
function(pedigree_embed_bytes path name out_var size_var)
  file(READ "${path}" hex HEX)
  file(SIZE "${path}" size)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "((0x..,){32})" "\\1\n" hex "${hex}")
  set(${out_var} "const unsigned char ${name}[] = {\n${hex}0x00};\n" PARENT_SCOPE)
  set(${size_var} "${size}" PARENT_SCOPE)
endfunction()
