// This file implements the interface of the JSON Canonicalization Scheme
// (RFC 8785) over nlohmann::json: object members sorted by the UTF-16 code
// units of their names, strings escaped per section 3.2.2.2 and numbers
// written as ECMAScript's Number.prototype.toString writes them.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "fingerprint/error.h"

namespace pedigree {

/// Canonical form of `value`. Fails (`err` names `where`) on NaN or an
/// infinite number, which RFC 8785 cannot represent.
bool jcs_canonicalize(const nlohmann::json& value, std::string* out, Error* err, const std::string& where = "");

/// ECMAScript Number.prototype.toString of a finite double ("1e+21", "0.000001", "-0" -> "0").
std::string jcs_number(double v);

}  // namespace pedigree
