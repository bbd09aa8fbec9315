// This file implements the PyTorch tensor walk declared in torch_pickle.h: a
// depth- and visit-bounded walk of the pickle data tree that names tensors by
// their dict/list path and decodes _rebuild_tensor_v2 arguments and storage
// persistent ids, plus the overflow-checked strided view validation.
#include "fingerprint/formats/torch_pickle.h"

#include <set>

#include "fingerprint/formats/limits.h"

namespace pedigree::torchpk {
namespace {

using pickle::Kind;
using pickle::kNoNode;
using pickle::Node;
using pickle::NodeId;

constexpr uint64_t kMaxWalkVisits = uint64_t{1} << 24;         // nodes visited while naming tensors
constexpr uint64_t kMaxTotalNameBytes = uint64_t{256} << 20;   // all tensor names together
constexpr size_t kMaxUnsupportedFindings = 256;                // "unsupported-tensor" warnings

class Walker {
 public:
  Walker(const pickle::PickleTree& t, const pickle::PickleSource& s, std::vector<TensorRef>* out,
         std::vector<Finding>* f, Error* e)
      : t_(t), src_(s), out_(out), findings_(f), err_(e) {}
  bool walk(NodeId id, const std::string& name, uint64_t depth);

 private:
  bool bad(const Node& n, const std::string& msg) const { return fail(err_, src_.path, n.offset, msg); }
  const pickle::GlobalRef* global_of(NodeId id) const;
  bool walk_reduce(const Node& n, const std::string& name, uint64_t depth);
  bool walk_children(const Node& n, const std::string& name, uint64_t depth);
  bool tensor(const Node& reduce, NodeId args, const std::string& name);
  bool storage(const Node& reduce, NodeId pid, const std::string& name, TensorRef* t);
  bool int_arg(const Node& reduce, NodeId id, const std::string& name, const char* what, int64_t* v);
  bool int_tuple(const Node& reduce, NodeId id, const std::string& name, const char* what,
                 std::vector<int64_t>* v);
  std::string key_str(NodeId k, size_t index) const;
  bool child_name(const Node& parent, const std::string& name, NodeId key, size_t index, std::string* out);

  const pickle::PickleTree& t_;
  const pickle::PickleSource& src_;
  std::vector<TensorRef>* out_;
  std::vector<Finding>* findings_;
  Error* err_;
  uint64_t visits_ = 0;
  uint64_t name_bytes_ = 0;
  size_t unsupported_ = 0;
  std::set<std::string> names_;
};

std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

const pickle::GlobalRef* Walker::global_of(NodeId id) const {
  if (id == kNoNode || t_.at(id).kind != Kind::kGlobal) return nullptr;
  return &t_.globals[static_cast<size_t>(t_.at(id).i)];
}

std::string Walker::key_str(NodeId k, size_t index) const {
  const Node& n = t_.at(k);
  switch (n.kind) {
    case Kind::kStr:
    case Kind::kBigInt: return n.text;
    case Kind::kInt: return std::to_string(n.i);
    case Kind::kBool: return n.i ? "True" : "False";
    case Kind::kNone: return "None";
    default: return "[" + std::to_string(index) + "]";
  }
}

bool Walker::walk(NodeId id, const std::string& name, uint64_t depth) {
  const Node& n = t_.at(id);
  if (++visits_ > kMaxWalkVisits)
    return bad(n, "pickle object graph needs more than " + count_str(kMaxWalkVisits) + " visits to walk");
  if (depth > limits::kMaxNesting)
    return bad(n, "pickle object graph nests deeper than " + std::to_string(limits::kMaxNesting) + " levels");
  switch (n.kind) {
    case Kind::kReduce: return walk_reduce(n, name, depth);
    case Kind::kBuild:
      return walk(n.a, name, depth + 1) && walk(n.b, name, depth + 1);
    case Kind::kDict:
    case Kind::kList:
    case Kind::kTuple: return walk_children(n, name, depth);
    default: return true;
  }
}

// name + "." + key, refusing names beyond limits::kMaxNameBytes before building them.
bool Walker::child_name(const Node& parent, const std::string& name, NodeId key, size_t index, std::string* out) {
  uint64_t klen = key == kNoNode ? 20 : t_.at(key).text.size() + 20;
  if (name.size() + 1 + klen > limits::kMaxNameBytes)
    return bad(parent, "pickle object path exceeds " + human_bytes(limits::kMaxNameBytes));
  *out = join(name, key == kNoNode ? std::to_string(index) : key_str(key, index));
  return true;
}

bool Walker::walk_children(const Node& n, const std::string& name, uint64_t depth) {
  std::string child;
  for (size_t k = 0; k < n.items.size(); ++k)
    if (!child_name(n, name, kNoNode, k, &child) || !walk(n.items[k], child, depth + 1)) return false;
  for (size_t k = 0; k + 1 < n.pairs.size(); k += 2)
    if (!child_name(n, name, n.pairs[k], k / 2, &child) || !walk(n.pairs[k + 1], child, depth + 1)) return false;
  return true;
}

bool Walker::walk_reduce(const Node& n, const std::string& name, uint64_t depth) {
  const pickle::GlobalRef* g = global_of(n.a);
  const Node* args = n.b == kNoNode ? nullptr : &t_.at(n.b);
  bool tuple_args = args && args->kind == Kind::kTuple;
  if (g && g->module == "torch._utils") {
    if (g->name == "_rebuild_tensor_v2" || g->name == "_rebuild_tensor") return tensor(n, n.b, name);
    if ((g->name == "_rebuild_parameter" || g->name == "_rebuild_parameter_with_state") && tuple_args &&
        !args->items.empty())
      return walk(args->items[0], name, depth + 1);
    if (g->name.rfind("_rebuild_", 0) == 0) {
      if (unsupported_++ >= kMaxUnsupportedFindings) return true;
      findings_->push_back({"unsupported-tensor", "warning", src_.path, n.offset,
                            "tensor '" + (name.empty() ? "tensor" : name) + "' uses unsupported " +
                                g->module + "." + g->name + "; not indexed"});
      return true;
    }
  }
  if (g && g->module == "torch._tensor" && g->name == "_rebuild_from_type_v2" && tuple_args &&
      args->items.size() >= 3) {
    const pickle::GlobalRef* f = global_of(args->items[0]);
    if (f && f->module == "torch._utils" && f->name == "_rebuild_tensor_v2")
      return tensor(n, args->items[2], name);
  }
  if (n.b != kNoNode && !walk(n.b, name, depth + 1)) return false;
  return walk_children(n, name, depth);
}

bool Walker::int_arg(const Node& r, NodeId id, const std::string& name, const char* what, int64_t* v) {
  if (id == kNoNode || t_.at(id).kind != Kind::kInt)
    return bad(r, "tensor '" + name + "': " + what + " is not an integer");
  *v = t_.at(id).i;
  if (*v < 0) return bad(r, "tensor '" + name + "': " + what + " " + std::to_string(*v) + " is negative");
  return true;
}

bool Walker::int_tuple(const Node& r, NodeId id, const std::string& name, const char* what,
                       std::vector<int64_t>* v) {
  if (id == kNoNode || t_.at(id).kind != Kind::kTuple)
    return bad(r, "tensor '" + name + "': " + what + " is not a tuple");
  const Node& tup = t_.at(id);
  if (tup.items.size() > limits::kMaxDims)
    return bad(r, "tensor '" + name + "': rank " + std::to_string(tup.items.size()) + " exceeds limit " +
                      std::to_string(limits::kMaxDims));
  v->clear();
  for (NodeId c : tup.items) {
    int64_t x = 0;
    if (!int_arg(r, c, name, what, &x)) return false;
    v->push_back(x);
  }
  return true;
}

// ('storage', storage_type, key, location, numel[, view_metadata])
bool Walker::storage(const Node& r, NodeId pid, const std::string& name, TensorRef* t) {
  if (pid == kNoNode || t_.at(pid).kind != Kind::kPersId)
    return bad(r, "tensor '" + name + "': storage is not a persistent id");
  NodeId v = t_.at(pid).a;
  const Node* tup = v == kNoNode ? nullptr : &t_.at(v);
  if (!tup || tup->kind != Kind::kTuple || tup->items.size() < 5 || t_.at(tup->items[0]).kind != Kind::kStr ||
      t_.at(tup->items[0]).text != "storage")
    return bad(r, "tensor '" + name + "': persistent id is not a ('storage', ...) tuple");
  const pickle::GlobalRef* g = global_of(tup->items[1]);
  if (!g) return bad(r, "tensor '" + name + "': storage type is not a global");
  auto dt = g->module == "torch" ? storage_dtype(g->name) : std::nullopt;
  if (!dt) return bad(r, "tensor '" + name + "': unsupported storage type " + g->module + "." + g->name);
  t->dtype = *dt;
  const Node& key = t_.at(tup->items[2]);
  if (key.kind == Kind::kStr) t->key = key.text;
  else if (key.kind == Kind::kInt) t->key = std::to_string(key.i);
  else return bad(r, "tensor '" + name + "': storage key is not a string");
  int64_t numel = 0;
  if (!int_arg(r, tup->items[4], name, "storage size", &numel)) return false;
  t->numel = static_cast<uint64_t>(numel);
  if (tup->items.size() >= 6 && t_.at(tup->items[5]).kind == Kind::kTuple) {
    const Node& view = t_.at(tup->items[5]);
    int64_t off = 0, size = 0;
    if (view.items.size() != 3 || !int_arg(r, view.items[1], name, "view offset", &off) ||
        !int_arg(r, view.items[2], name, "view size", &size))
      return bad(r, "tensor '" + name + "': storage view metadata is malformed");
    t->view_offset = static_cast<uint64_t>(off);
    t->view_size = static_cast<uint64_t>(size);
  }
  return true;
}

bool Walker::tensor(const Node& r, NodeId args_id, const std::string& raw_name) {
  std::string name = raw_name.empty() ? "tensor" : raw_name;
  const Node* args = args_id == kNoNode ? nullptr : &t_.at(args_id);
  if (!args || args->kind != Kind::kTuple || args->items.size() < 4)
    return bad(r, "tensor '" + name + "': rebuild arguments are not a tuple of at least 4");
  TensorRef t;
  t.name = name;
  t.offset = r.offset;
  int64_t so = 0;
  std::vector<int64_t> size;
  if (!storage(r, args->items[0], name, &t) || !int_arg(r, args->items[1], name, "storage offset", &so) ||
      !int_tuple(r, args->items[2], name, "size", &size) || !int_tuple(r, args->items[3], name, "stride", &t.strides))
    return false;
  if (size.size() != t.strides.size())
    return bad(r, "tensor '" + name + "': " + std::to_string(size.size()) + " sizes but " +
                      std::to_string(t.strides.size()) + " strides");
  t.storage_offset = static_cast<uint64_t>(so);
  for (int64_t s : size) t.shape.push_back(static_cast<uint64_t>(s));
  if (out_->size() >= limits::kMaxTensors)
    return bad(r, "tensor count exceeds limit " + count_str(limits::kMaxTensors));
  name_bytes_ += name.size();
  if (name_bytes_ > kMaxTotalNameBytes)
    return bad(r, "tensor names exceed " + human_bytes(kMaxTotalNameBytes) + " in total");
  if (!names_.insert(name).second) return bad(r, "duplicate tensor name '" + name + "'");
  out_->push_back(std::move(t));
  return true;
}

}  // namespace

std::optional<DType> storage_dtype(std::string_view name) {
  static const std::pair<std::string_view, DType> kMap[] = {
      {"FloatStorage", DType::F32},   {"DoubleStorage", DType::F64},
      {"HalfStorage", DType::F16},    {"BFloat16Storage", DType::BF16},
      {"LongStorage", DType::I64},    {"IntStorage", DType::I32},
      {"ShortStorage", DType::I16},   {"CharStorage", DType::I8},
      {"ByteStorage", DType::U8},     {"BoolStorage", DType::BOOL},
      {"ComplexFloatStorage", DType::C64}, {"ComplexDoubleStorage", DType::C128},
  };
  for (const auto& [n, t] : kMap)
    if (n == name) return t;
  return std::nullopt;
}

bool collect_tensors(const pickle::PickleTree& tree, const pickle::PickleSource& src,
                     std::vector<TensorRef>* out, std::vector<Finding>* findings, Error* err) {
  if (tree.root == kNoNode) return true;
  Walker w(tree, src, out, findings, err);
  return w.walk(tree.root, "", 0);
}

bool check_view(const TensorRef& t, uint64_t storage_elems, const std::string& path, uint64_t* length,
                Error* err) {
  auto where = [&](const std::string& msg) { return fail(err, path, t.offset, "tensor '" + t.name + "': " + msg); };
  auto elems = shape_elems(t.shape.data(), t.shape.size());
  if (!elems) return where("shape element count overflows");
  uint64_t esize = dtype_info(t.dtype).block_bytes;
  auto bytes = dtype_bytes(t.dtype, *elems);
  if (!bytes) return where("byte length overflows");
  *length = *bytes;
  if (*elems == 0) {
    if (t.storage_offset > storage_elems)
      return where("storage offset " + std::to_string(t.storage_offset) + " exceeds storage of " +
                   std::to_string(storage_elems) + " elements");
    return true;
  }
  uint64_t last = t.storage_offset;
  bool overflow = false;
  for (size_t i = 0; i < t.shape.size() && !overflow; ++i) {
    uint64_t span = 0;
    overflow = __builtin_mul_overflow(t.shape[i] - 1, static_cast<uint64_t>(t.strides[i]), &span) ||
               __builtin_add_overflow(last, span, &last);
  }
  if (overflow || last >= storage_elems)
    return where("view ends at element " + (overflow ? std::string("beyond 2^64") : std::to_string(last)) +
                 " beyond storage of " + std::to_string(storage_elems) + " elements (" +
                 human_bytes(storage_elems * esize) + ")");
  return true;
}

bool is_contiguous(const std::vector<uint64_t>& shape, const std::vector<int64_t>& strides) {
  uint64_t expect = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 0) return true;
    if (shape[i] != 1 && static_cast<uint64_t>(strides[i]) != expect) return false;
    expect *= shape[i];
  }
  return true;
}

nlohmann::json globals_json(const pickle::PickleTree& tree) {
  nlohmann::json a = nlohmann::json::array();
  for (const std::string& s : pickle::global_names(tree)) a.push_back(s);
  return a;
}

}  // namespace pedigree::torchpk
