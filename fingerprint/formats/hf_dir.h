// This file implements reading a Hugging Face style model directory: every
// weight file any reader recognizes, plus config.json, generation_config.json,
// tokenizer*.json and README.md front matter kept as metadata for the AI-BOM.
#pragma once

#include <string>

#include "fingerprint/artifact.h"
#include "fingerprint/error.h"

namespace pedigree {

/// Reads the model directory `dir` into `art` and `idx`.
bool read_model_directory(const std::string& dir, ModelArtifact* art, TensorIndex* idx, Error* err);

}  // namespace pedigree
