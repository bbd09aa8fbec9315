// This file implements the inventory file parser (sbom/inventory_file.h): a
// line-based format with caps on file size, line length and entry count, and
// an exact message naming the line for anything it does not accept.
#include "sbom/inventory_file.h"

#include <filesystem>

#include "fingerprint/mapped_file.h"

namespace pedigree {
namespace {

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

struct LineParser {
  const std::string& name;
  uint64_t line;
  Error* err;

  bool bad(const std::string& what) { return fail(err, name, std::nullopt, "line " + std::to_string(line) + ": " + what); }

  bool check_bytes(std::string_view s) {
    if (s.size() > kMaxInventoryLine)
      return bad("line of " + std::to_string(s.size()) + " bytes exceeds limit " + std::to_string(kMaxInventoryLine));
    for (size_t i = 0; i < s.size(); ++i) {
      auto c = static_cast<unsigned char>(s[i]);
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return bad("control byte " + hex_offset(c) + " at column " + std::to_string(i + 1));
    }
    return true;
  }

  bool endpoint(std::string_view rest, InventoryEntry* e) {
    rest = trim(rest);
    size_t sp = rest.find_first_of(" \t");
    std::string_view url = rest.substr(0, sp);
    std::string_view tail = sp == std::string_view::npos ? std::string_view() : trim(rest.substr(sp));
    if (url.empty()) return bad("endpoint URL is empty");
    bool http = starts_with(url, "http://"), https = starts_with(url, "https://");
    if ((!http && !https) || url.size() == (http ? 7u : 8u))
      return bad("endpoint '" + escape_bytes(url, true, 80) + "' is not an http:// or https:// URL");
    if (!starts_with(tail, "model:")) return bad("endpoint needs 'model: NAME' after the URL");
    std::string_view model = trim(tail.substr(6));
    if (model.empty()) return bad("model name is empty");
    e->endpoint = std::string(url);
    e->model = std::string(model);
    return true;
  }

  // Fills `e` from one trimmed, non-comment line.
  bool entry(std::string_view s, InventoryEntry* e) {
    e->line = line;
    if (starts_with(s, "endpoint:")) return endpoint(s.substr(9), e);
    if (starts_with(s, "model:")) return bad("'model:' without 'endpoint: URL' before it");
    if (starts_with(s, "path:")) s = trim(s.substr(5));
    if (s.empty()) return bad("path is empty");
    e->path = std::string(s);
    return true;
  }
};

}  // namespace

bool parse_inventory(std::string_view text, const std::string& name, std::vector<InventoryEntry>* out, Error* err) {
  if (text.size() > kMaxInventoryBytes)
    return fail(err, name, std::nullopt,
                "inventory of " + human_bytes(text.size()) + " exceeds limit " + human_bytes(kMaxInventoryBytes));
  uint64_t line = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    LineParser p{name, ++line, err};
    if (!p.check_bytes(raw)) return false;
    std::string_view s = trim(raw);
    if (s.empty() || s[0] == '#') continue;
    if (out->size() >= kMaxInventoryEntries)
      return p.bad("more than " + std::to_string(kMaxInventoryEntries) + " entries");
    InventoryEntry e;
    if (!p.entry(s, &e)) return false;
    out->push_back(std::move(e));
  }
  return true;
}

bool read_inventory(const std::string& path, std::vector<InventoryEntry>* out, Error* err) {
  auto f = MappedFile::open(path, err);
  if (!f) return false;
  if (f->size() > kMaxInventoryBytes)
    return fail(err, path, std::nullopt,
                "inventory of " + human_bytes(f->size()) + " exceeds limit " + human_bytes(kMaxInventoryBytes));
  if (!parse_inventory(f->view(), path, out, err)) return false;
  std::filesystem::path base = std::filesystem::path(path).parent_path();
  for (InventoryEntry& e : *out)
    if (!e.path.empty() && e.path[0] != '/' && !base.empty()) e.path = (base / e.path).string();
  return true;
}

}  // namespace pedigree
