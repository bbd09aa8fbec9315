// This file implements format detection and dispatch: every reader probes the
// first bytes of a file, the most confident one (magic beats extension) wins,
// and directories go to the Hugging Face directory reader.
#include <filesystem>

#include "fingerprint/formats/hf_dir.h"
#include "fingerprint/formats/readers.h"

namespace pedigree {

const std::vector<const FormatReader*>& all_readers() {
  static const std::vector<const FormatReader*> readers = {
      &gguf_reader(), &safetensors_reader(), &pytorch_reader(), &npz_reader(),
      &npy_reader(),  &onnx_reader(),        &pickle_reader(),
  };
  return readers;
}

const FormatReader* detect_reader(std::string_view head, std::string_view path) {
  const FormatReader* best = nullptr;
  Confidence best_c = Confidence::kNo;
  for (const FormatReader* r : all_readers()) {
    Confidence c = r->probe(head, path);
    if (static_cast<int>(c) > static_cast<int>(best_c)) {
      best = r;
      best_c = c;
    }
  }
  return best;
}

uint32_t add_artifact_file(ModelArtifact* art, const MappedFile& file, std::string_view format) {
  namespace fs = std::filesystem;
  ArtifactFile f;
  f.path = file.path();
  std::error_code ec;
  fs::path root(art->root);
  if (!art->root.empty() && fs::is_directory(root, ec)) {
    f.name = fs::path(file.path()).lexically_relative(root).generic_string();
  } else if (!art->root.empty() && fs::path(file.path()) == root) {
    f.name.assign(1, '.');  // assign(".") trips a g++ 12 -Wrestrict false positive
  } else if (!art->root.empty()) {
    f.name = fs::path(file.path()).lexically_relative(root.parent_path()).generic_string();
  } else {
    f.name = fs::path(file.path()).filename().string();
  }
  f.size = file.size();
  f.format = std::string(format);
  art->files.push_back(std::move(f));
  return static_cast<uint32_t>(art->files.size() - 1);
}

bool read_model(const std::string& path, ModelArtifact* art, TensorIndex* idx, Error* err) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (art->root.empty()) art->root = path;
  if (fs::is_directory(path, ec)) return read_model_directory(path, art, idx, err);
  auto file = MappedFile::open(path, err);
  if (!file) return false;
  std::string_view head = file->view().substr(0, 4096);
  const FormatReader* r = detect_reader(head, path);
  if (!r) return fail(err, path, 0, "unrecognized model format (no known magic bytes or extension)");
  if (art->format.empty()) art->format = std::string(r->name());
  return r->read(*file, art, idx, err);
}

}  // namespace pedigree
