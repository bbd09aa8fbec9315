// This file implements the byte encodings a DSSE envelope needs: base64
// (standard and URL-safe alphabets, padding optional on input), the DSSE v1
// pre-authentication encoding (PAE), and the non-standard PAE that
// model_signing v0.2.0 signed (a Python bytes repr inside the text).
#pragma once

#include <string>
#include <string_view>

namespace pedigree {

/// Standard base64 with padding.
std::string base64_encode(std::string_view bytes);

/// Decodes standard or URL-safe base64, padding optional; false on any other
/// character, misplaced padding or a dangling 6-bit group.
bool base64_decode(std::string_view text, std::string* out);

/// DSSE v1 PAE: "DSSEv1" SP len(type) SP type SP len(body) SP body.
std::string dsse_pae(std::string_view payload_type, std::string_view payload);

/// The PAE of model_signing v0.2.0: "DSSEV1" SP len(type) SP type SP len(body)
/// SP repr(body), where repr is Python's `bytes.__repr__` (b'...').
std::string legacy_pae(std::string_view payload_type, std::string_view payload);

/// Python's repr() of a bytes object: b'...' (or b"..." when the bytes hold a
/// single quote and no double quote) with \\, \t, \n, \r and \xNN escapes.
std::string python_bytes_repr(std::string_view bytes);

}  // namespace pedigree
