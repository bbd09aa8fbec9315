// This file implements the restricted pickle reader declared in pickle_vm.h:
// an opcode interpreter over a flat node arena (memo references share nodes,
// destruction never recurses), with stack, memo, node, nesting and opcode caps,
// and the allowlist that separates weight-rebuild helpers from unsafe imports.
#include "fingerprint/formats/pickle_vm.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "fingerprint/formats/limits.h"

namespace pedigree::pickle {
namespace {

constexpr uint64_t kMaxStack = uint64_t{1} << 22;   // stack entries plus open MARKs
constexpr uint64_t kMaxMemo = uint64_t{1} << 22;    // memo entries
constexpr uint64_t kMaxNodes = uint64_t{1} << 22;   // values created by one program
constexpr size_t kMaxUnsafeFindings = 256;          // per program; the rest are summarized
constexpr uint64_t kMaxGlobalBytes = uint64_t{16} << 20;  // module + name bytes of all global references

struct OpInfo {
  uint8_t code;
  const char* name;
};

constexpr OpInfo kOps[] = {
    {'(', "MARK"}, {'.', "STOP"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"},
    {'F', "FLOAT"}, {'I', "INT"}, {'J', "BININT"}, {'K', "BININT1"}, {'L', "LONG"},
    {'M', "BININT2"}, {'N', "NONE"}, {'P', "PERSID"}, {'Q', "BINPERSID"}, {'R', "REDUCE"},
    {'S', "STRING"}, {'T', "BINSTRING"}, {'U', "SHORT_BINSTRING"}, {'V', "UNICODE"},
    {'X', "BINUNICODE"}, {'a', "APPEND"}, {'b', "BUILD"}, {'c', "GLOBAL"}, {'d', "DICT"},
    {'}', "EMPTY_DICT"}, {'e', "APPENDS"}, {'g', "GET"}, {'h', "BINGET"}, {'i', "INST"},
    {'j', "LONG_BINGET"}, {'l', "LIST"}, {']', "EMPTY_LIST"}, {'o', "OBJ"}, {'p', "PUT"},
    {'q', "BINPUT"}, {'r', "LONG_BINPUT"}, {'s', "SETITEM"}, {'t', "TUPLE"},
    {')', "EMPTY_TUPLE"}, {'u', "SETITEMS"}, {'G', "BINFLOAT"}, {0x80, "PROTO"},
    {0x81, "NEWOBJ"}, {0x82, "EXT1"}, {0x83, "EXT2"}, {0x84, "EXT4"}, {0x85, "TUPLE1"},
    {0x86, "TUPLE2"}, {0x87, "TUPLE3"}, {0x88, "NEWTRUE"}, {0x89, "NEWFALSE"},
    {0x8a, "LONG1"}, {0x8b, "LONG4"}, {'B', "BINBYTES"}, {'C', "SHORT_BINBYTES"},
    {0x8c, "SHORT_BINUNICODE"}, {0x8d, "BINUNICODE8"}, {0x8e, "BINBYTES8"},
    {0x8f, "EMPTY_SET"}, {0x90, "ADDITEMS"}, {0x91, "FROZENSET"}, {0x92, "NEWOBJ_EX"},
    {0x93, "STACK_GLOBAL"}, {0x94, "MEMOIZE"}, {0x95, "FRAME"}, {0x96, "BYTEARRAY8"},
    {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"},
};

const char* op_name(uint8_t op) {
  for (const OpInfo& o : kOps)
    if (o.code == op) return o.name;
  return nullptr;
}

uint64_t le_u(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      uint8_t d = static_cast<uint8_t>(s[i + k]);
      if ((d >> 6) != 2) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

void put_utf8(uint32_t cp, std::string* out) {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_hex(std::string_view s, uint32_t* out) {
  uint32_t v = 0;
  for (char c : s) {
    int d = hex_digit(c);
    if (d < 0) return false;
    v = (v << 4) | static_cast<uint32_t>(d);
  }
  *out = v;
  return true;
}

// Python's raw-unicode-escape: \uXXXX and \UXXXXXXXX escapes, other bytes Latin-1.
std::string raw_unicode_unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    size_t n = 0;
    if (s[i] == '\\' && i + 1 < s.size()) n = s[i + 1] == 'u' ? 4 : s[i + 1] == 'U' ? 8 : 0;
    uint32_t cp = 0;
    if (n != 0 && i + 2 + n <= s.size() && parse_hex(s.substr(i + 2, n), &cp)) {
      put_utf8(cp, &out);
      i += 1 + n;
    } else {
      put_utf8(static_cast<uint8_t>(s[i]), &out);
    }
  }
  return out;
}

// Python's escape_decode for protocol-0 STRING bodies (quotes already removed).
std::string escape_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char c = s[++i];
    static constexpr std::string_view kFrom = "\\'\"abfnrtv", kTo = "\\'\"\a\b\f\n\r\t\v";
    size_t k = kFrom.find(c);
    uint32_t v = 0;
    if (k != std::string_view::npos) {
      out.push_back(kTo[k]);
    } else if (c == '\n') {
    } else if (c == 'x' && i + 2 < s.size() && parse_hex(s.substr(i + 1, 2), &v)) {
      out.push_back(static_cast<char>(v));
      i += 2;
    } else if (c >= '0' && c <= '7') {
      v = static_cast<uint32_t>(c - '0');
      for (int d = 0; d < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++d)
        v = v * 8 + static_cast<uint32_t>(s[++i] - '0');
      out.push_back(static_cast<char>(v & 0xff));
    } else {
      out.push_back('\\');
      out.push_back(c);
    }
  }
  return out;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<uint8_t>(c) < 0x80; });
}

// Parses an optionally signed decimal integer; `big` is set when it is valid
// but does not fit int64.
bool parse_decimal(std::string_view s, int64_t* v, bool* big) {
  *big = false;
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size() || s.size() - i > 4096) return false;
  for (size_t k = i; k < s.size(); ++k)
    if (s[k] < '0' || s[k] > '9') return false;
  bool neg = s[0] == '-';
  uint64_t mag = 0, lim = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  for (size_t k = i; k < s.size(); ++k) {
    uint64_t d = static_cast<uint64_t>(s[k] - '0');
    if (mag > (lim - d) / 10) {
      *big = true;
      return true;
    }
    mag = mag * 10 + d;
  }
  *v = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
  return true;
}

// Little-endian two's complement bytes as int64 when they fit, else hex text.
bool decode_long(std::string_view b, int64_t* v, std::string* hex) {
  if (b.empty()) {
    *v = 0;
    return true;
  }
  bool neg = static_cast<uint8_t>(b.back()) & 0x80;
  size_t n = b.size();
  uint8_t fill = neg ? 0xff : 0x00;
  while (n > 1 && static_cast<uint8_t>(b[n - 1]) == fill &&
         ((static_cast<uint8_t>(b[n - 2]) & 0x80) != 0) == neg)
    --n;
  if (n <= 8) {
    uint64_t u = neg ? ~uint64_t{0} : 0;
    for (size_t k = 0; k < n; ++k) {
      u &= ~(uint64_t{0xff} << (8 * k));
      u |= uint64_t{static_cast<uint8_t>(b[k])} << (8 * k);
    }
    *v = static_cast<int64_t>(u);
    return true;
  }
  std::vector<uint8_t> mag(b.begin(), b.begin() + static_cast<ptrdiff_t>(n));
  if (neg) {  // two's complement negate
    unsigned carry = 1;
    for (uint8_t& x : mag) {
      unsigned t = static_cast<uint8_t>(~x) + carry;
      x = static_cast<uint8_t>(t);
      carry = t >> 8;
    }
  }
  while (mag.size() > 1 && mag.back() == 0) mag.pop_back();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = neg ? "-0x" : "0x";
  bool lead = true;
  for (size_t k = mag.size(); k-- > 0;) {
    for (int sh : {4, 0}) {
      int d = (mag[k] >> sh) & 0xf;
      if (lead && d == 0) continue;
      lead = false;
      out.push_back(kHex[d]);
    }
  }
  if (lead) out.push_back('0');
  *hex = std::move(out);
  return false;
}

class Vm {
 public:
  Vm(std::string_view p, const PickleSource& src, PickleTree* t, Error* err)
      : p_(p), src_(src), t_(t), err_(err) {}
  bool run(uint64_t* consumed);

 private:
  bool step(bool* stop);
  bool bad(const std::string& msg) const {
    return fail(err_, src_.path, src_.base_offset + op_pos_, msg);
  }
  std::string name() const {
    const char* n = op_name(op_);
    return n ? n : hex_offset(op_);
  }
  uint64_t remaining() const { return p_.size() - pos_; }
  bool fixed(uint64_t n, const char** out);
  bool data(uint64_t len, std::string_view* out);
  bool line(std::string_view* out);
  bool make(Kind k, NodeId* id);
  bool push(NodeId id);
  bool pop(NodeId* id);
  bool top(NodeId* id);
  bool pop_mark(std::vector<NodeId>* items);
  bool adopt(NodeId parent, NodeId child);
  bool target(NodeId* id);
  bool push_scalar(Kind k, int64_t i, std::string text = {});
  bool push_container(Kind k, std::vector<NodeId> items);
  bool push_global(std::string module, std::string gname);
  bool push_reduce(NodeId callable, NodeId args, NodeId kwargs);
  bool memo_put(uint64_t key);
  bool memo_get(uint64_t key);
  bool op_int_text(bool is_long);
  bool op_long_bin(int lenbytes);
  bool op_string(int lenbytes);
  bool op_unicode(int lenbytes);
  bool op_bytes(int lenbytes);
  bool op_string_text();
  bool op_float_text();
  bool op_append(bool many);
  bool op_setitems(bool many);
  bool op_additems();
  bool op_global_text(bool inst);
  bool op_stack_global();
  bool op_get_put(bool put, int lenbytes);
  bool op_tuple_n(int n);
  bool op_obj();
  bool op_ext(int lenbytes);
  bool op_persid(bool binary);
  bool dispatch_proto2(bool* handled);
  bool dispatch_text(bool* handled, bool* stop);

  std::string_view p_;
  const PickleSource& src_;
  PickleTree* t_;
  Error* err_;
  size_t pos_ = 0, op_pos_ = 0;
  uint8_t op_ = 0;
  std::vector<NodeId> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, NodeId> memo_;
  uint64_t global_bytes_ = 0;
};

bool Vm::fixed(uint64_t n, const char** out) {
  if (remaining() < n)
    return bad("pickle truncated in " + name() + " argument (" + std::to_string(n) + " B needed, " +
               std::to_string(remaining()) + " B remain)");
  *out = p_.data() + pos_;
  pos_ += n;
  return true;
}

bool Vm::data(uint64_t len, std::string_view* out) {
  if (len > remaining())
    return bad("pickle " + name() + " length " + count_str(len) + " exceeds the " +
               human_bytes(remaining()) + " remaining");
  *out = p_.substr(pos_, len);
  pos_ += len;
  return true;
}

bool Vm::line(std::string_view* out) {
  size_t nl = p_.find('\n', pos_);
  if (nl == std::string_view::npos) return bad("pickle truncated in " + name() + " argument (no newline)");
  *out = p_.substr(pos_, nl - pos_);
  if (!out->empty() && out->back() == '\r') out->remove_suffix(1);
  pos_ = nl + 1;
  return true;
}

bool Vm::make(Kind k, NodeId* id) {
  if (t_->nodes.size() >= kMaxNodes)
    return bad("pickle creates more than " + count_str(kMaxNodes) + " values");
  t_->nodes.emplace_back();
  t_->nodes.back().kind = k;
  t_->nodes.back().offset = src_.base_offset + op_pos_;
  *id = static_cast<NodeId>(t_->nodes.size() - 1);
  return true;
}

bool Vm::push(NodeId id) {
  if (stack_.size() + marks_.size() >= kMaxStack)
    return bad("pickle stack deeper than " + count_str(kMaxStack));
  stack_.push_back(id);
  return true;
}

bool Vm::pop(NodeId* id) {
  size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor) return bad("pickle stack underflow at " + name());
  *id = stack_.back();
  stack_.pop_back();
  return true;
}

bool Vm::top(NodeId* id) {
  size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor) return bad("pickle stack underflow at " + name());
  *id = stack_.back();
  return true;
}

bool Vm::pop_mark(std::vector<NodeId>* items) {
  if (marks_.empty()) return bad("pickle " + name() + " without a preceding MARK");
  size_t m = marks_.back();
  marks_.pop_back();
  items->assign(stack_.begin() + static_cast<ptrdiff_t>(m), stack_.end());
  stack_.resize(m);
  return true;
}

bool Vm::adopt(NodeId parent, NodeId child) {
  if (child == kNoNode) return true;
  uint32_t d = std::max(t_->nodes[parent].depth, t_->nodes[child].depth + 1);
  if (d > limits::kMaxNesting)
    return bad("pickle containers nest deeper than " + std::to_string(limits::kMaxNesting) + " levels");
  t_->nodes[parent].depth = d;
  return true;
}

// The object APPENDS / SETITEMS / ADDITEMS modify: the stack top, seen through BUILD.
bool Vm::target(NodeId* id) {
  if (!top(id)) return false;
  while (t_->nodes[*id].kind == Kind::kBuild) *id = t_->nodes[*id].a;
  return true;
}

bool Vm::push_scalar(Kind k, int64_t i, std::string text) {
  NodeId id;
  if (!make(k, &id)) return false;
  t_->nodes[id].i = i;
  t_->nodes[id].text = std::move(text);
  return push(id);
}

bool Vm::push_container(Kind k, std::vector<NodeId> items) {
  NodeId id;
  if (!make(k, &id)) return false;
  for (NodeId c : items)
    if (!adopt(id, c)) return false;
  if (k == Kind::kDict) {
    if (items.size() % 2 != 0) return bad("pickle " + name() + " has an odd number of items");
    t_->nodes[id].pairs = std::move(items);
  } else {
    t_->nodes[id].items = std::move(items);
  }
  return push(id);
}

bool Vm::push_global(std::string module, std::string gname) {
  if (module.size() > limits::kMaxNameBytes || gname.size() > limits::kMaxNameBytes)
    return bad("pickle " + name() + " name of " + human_bytes(std::max(module.size(), gname.size())) +
               " exceeds limit " + human_bytes(limits::kMaxNameBytes));
  global_bytes_ += module.size() + gname.size();
  if (global_bytes_ > kMaxGlobalBytes)
    return bad("pickle global references exceed " + human_bytes(kMaxGlobalBytes) + " in total");
  if (!valid_utf8(module) || !valid_utf8(gname)) return bad("pickle " + name() + " name is not valid UTF-8");
  NodeId id;
  if (!make(Kind::kGlobal, &id)) return false;
  t_->nodes[id].i = static_cast<int64_t>(t_->globals.size());
  t_->globals.push_back({std::move(module), std::move(gname), src_.base_offset + op_pos_});
  return push(id);
}

bool Vm::push_reduce(NodeId callable, NodeId args, NodeId kwargs) {
  NodeId id;
  if (!make(Kind::kReduce, &id)) return false;
  t_->nodes[id].a = callable;
  t_->nodes[id].b = args;
  t_->nodes[id].c = kwargs;
  if (!adopt(id, callable) || !adopt(id, args) || !adopt(id, kwargs)) return false;
  return push(id);
}

bool Vm::memo_put(uint64_t key) {
  NodeId v;
  if (!top(&v)) return false;
  if (memo_.size() >= kMaxMemo && memo_.find(key) == memo_.end())
    return bad("pickle memo holds more than " + count_str(kMaxMemo) + " entries");
  memo_[key] = v;
  return true;
}

bool Vm::memo_get(uint64_t key) {
  auto it = memo_.find(key);
  if (it == memo_.end()) return bad("pickle memo key " + std::to_string(key) + " is not defined");
  return push(it->second);
}

bool Vm::op_int_text(bool is_long) {
  std::string_view s;
  if (!line(&s)) return false;
  if (!is_long && (s == "00" || s == "01")) return push_scalar(Kind::kBool, s == "01");
  if (is_long && !s.empty() && s.back() == 'L') s.remove_suffix(1);
  int64_t v = 0;
  bool big = false;
  if (!parse_decimal(s, &v, &big))
    return bad("pickle " + name() + " value '" + std::string(s.substr(0, 32)) + "' is not an integer");
  return big ? push_scalar(Kind::kBigInt, 0, std::string(s)) : push_scalar(Kind::kInt, v);
}

bool Vm::op_long_bin(int lenbytes) {
  const char* a;
  if (!fixed(static_cast<uint64_t>(lenbytes), &a)) return false;
  int64_t len = lenbytes == 1 ? static_cast<int64_t>(static_cast<uint8_t>(a[0]))
                              : static_cast<int32_t>(le_u(a, 4));
  if (len < 0) return bad("pickle " + name() + " length " + std::to_string(len) + " is negative");
  std::string_view b;
  if (!data(static_cast<uint64_t>(len), &b)) return false;
  int64_t v = 0;
  std::string hex;
  if (decode_long(b, &v, &hex)) return push_scalar(Kind::kInt, v);
  return push_scalar(Kind::kBigInt, 0, std::move(hex));
}

// BINSTRING / SHORT_BINSTRING: ASCII -> str (Python 3's default), else bytes.
bool Vm::op_string(int lenbytes) {
  const char* a;
  if (!fixed(static_cast<uint64_t>(lenbytes), &a)) return false;
  int64_t len = lenbytes == 1 ? static_cast<int64_t>(static_cast<uint8_t>(a[0]))
                              : static_cast<int32_t>(le_u(a, 4));
  if (len < 0) return bad("pickle " + name() + " length " + std::to_string(len) + " is negative");
  std::string_view b;
  if (!data(static_cast<uint64_t>(len), &b)) return false;
  return push_scalar(is_ascii(b) ? Kind::kStr : Kind::kBytes, 0, std::string(b));
}

bool Vm::op_unicode(int lenbytes) {
  const char* a;
  if (!fixed(static_cast<uint64_t>(lenbytes), &a)) return false;
  std::string_view b;
  if (!data(le_u(a, lenbytes), &b)) return false;
  if (!valid_utf8(b)) return bad("pickle " + name() + " string is not valid UTF-8");
  return push_scalar(Kind::kStr, 0, std::string(b));
}

bool Vm::op_bytes(int lenbytes) {
  const char* a;
  if (!fixed(static_cast<uint64_t>(lenbytes), &a)) return false;
  std::string_view b;
  if (!data(le_u(a, lenbytes), &b)) return false;
  return push_scalar(Kind::kBytes, 0, std::string(b));
}

bool Vm::op_string_text() {
  std::string_view s;
  if (!line(&s)) return false;
  if (s.size() < 2 || (s[0] != '\'' && s[0] != '"') || s.back() != s[0])
    return bad("pickle STRING argument is not a quoted string");
  std::string v = escape_decode(s.substr(1, s.size() - 2));
  Kind k = is_ascii(v) ? Kind::kStr : Kind::kBytes;
  return push_scalar(k, 0, std::move(v));
}

bool Vm::op_float_text() {
  std::string_view s;
  if (!line(&s)) return false;
  std::string z(s.substr(0, 64));
  char* end = nullptr;
  double d = std::strtod(z.c_str(), &end);
  if (s.empty() || s.size() > 64 || end != z.c_str() + z.size())
    return bad("pickle FLOAT value '" + z.substr(0, 32) + "' is not a number");
  NodeId id;
  if (!make(Kind::kFloat, &id)) return false;
  t_->nodes[id].f = d;
  return push(id);
}

bool Vm::op_append(bool many) {
  std::vector<NodeId> items(1);
  if (many ? !pop_mark(&items) : !pop(&items[0])) return false;
  NodeId obj;
  if (!target(&obj)) return false;
  Kind k = t_->nodes[obj].kind;
  if (k != Kind::kList && k != Kind::kReduce) return bad("pickle " + name() + " target is not a list");
  for (NodeId c : items) {
    if (!adopt(obj, c)) return false;
    t_->nodes[obj].items.push_back(c);
  }
  return true;
}

bool Vm::op_setitems(bool many) {
  std::vector<NodeId> items(2);
  if (many ? !pop_mark(&items) : (!pop(&items[1]) || !pop(&items[0]))) return false;
  if (items.size() % 2 != 0) return bad("pickle " + name() + " has an odd number of items");
  NodeId obj;
  if (!target(&obj)) return false;
  Kind k = t_->nodes[obj].kind;
  if (k != Kind::kDict && k != Kind::kReduce) return bad("pickle " + name() + " target is not a dict");
  for (NodeId c : items) {
    if (!adopt(obj, c)) return false;
    t_->nodes[obj].pairs.push_back(c);
  }
  return true;
}

bool Vm::op_additems() {
  std::vector<NodeId> items;
  if (!pop_mark(&items)) return false;
  NodeId obj;
  if (!target(&obj)) return false;
  Kind k = t_->nodes[obj].kind;
  if (k != Kind::kSet && k != Kind::kReduce) return bad("pickle ADDITEMS target is not a set");
  for (NodeId c : items) {
    if (!adopt(obj, c)) return false;
    t_->nodes[obj].items.push_back(c);
  }
  return true;
}

bool Vm::op_global_text(bool inst) {
  std::string_view mod, nm;
  if (!line(&mod) || !line(&nm)) return false;
  if (!inst) return push_global(std::string(mod), std::string(nm));
  std::vector<NodeId> args;
  if (!pop_mark(&args) || !push_global(std::string(mod), std::string(nm))) return false;
  NodeId cls = stack_.back();
  stack_.pop_back();
  if (!push_container(Kind::kTuple, std::move(args))) return false;
  NodeId tup = stack_.back();
  stack_.pop_back();
  return push_reduce(cls, tup, kNoNode);
}

bool Vm::op_stack_global() {
  NodeId nm, mod;
  if (!pop(&nm) || !pop(&mod)) return false;
  if (t_->nodes[nm].kind != Kind::kStr || t_->nodes[mod].kind != Kind::kStr)
    return bad("pickle STACK_GLOBAL operands are not strings");
  return push_global(t_->nodes[mod].text, t_->nodes[nm].text);
}

bool Vm::op_get_put(bool put, int lenbytes) {
  uint64_t key = 0;
  if (lenbytes == 0) {
    std::string_view s;
    if (!line(&s)) return false;
    int64_t v = 0;
    bool big = false;
    if (!parse_decimal(s, &v, &big) || big || v < 0)
      return bad("pickle " + name() + " key '" + std::string(s.substr(0, 32)) + "' is not a memo index");
    key = static_cast<uint64_t>(v);
  } else {
    const char* a;
    if (!fixed(static_cast<uint64_t>(lenbytes), &a)) return false;
    key = le_u(a, lenbytes);
  }
  return put ? memo_put(key) : memo_get(key);
}

bool Vm::op_tuple_n(int n) {
  std::vector<NodeId> items(static_cast<size_t>(n));
  for (int k = n - 1; k >= 0; --k)
    if (!pop(&items[static_cast<size_t>(k)])) return false;
  return push_container(Kind::kTuple, std::move(items));
}

bool Vm::op_obj() {
  std::vector<NodeId> items;
  if (!pop_mark(&items)) return false;
  if (items.empty()) return bad("pickle OBJ without a class");
  NodeId cls = items.front();
  items.erase(items.begin());
  if (!push_container(Kind::kTuple, std::move(items))) return false;
  NodeId tup = stack_.back();
  stack_.pop_back();
  return push_reduce(cls, tup, kNoNode);
}

bool Vm::op_ext(int lenbytes) {
  const char* a;
  if (!fixed(static_cast<uint64_t>(lenbytes), &a)) return false;
  t_->ext_offsets.push_back(src_.base_offset + op_pos_);
  return push_scalar(Kind::kExt, static_cast<int64_t>(le_u(a, lenbytes)));
}

// PERSID takes the id from a text line, BINPERSID from the stack.
bool Vm::op_persid(bool binary) {
  NodeId x;
  if (!binary) {
    std::string_view s;
    if (!line(&s) || !push_scalar(Kind::kStr, 0, std::string(s))) return false;
  }
  if (!pop(&x)) return false;
  NodeId id;
  if (!make(Kind::kPersId, &id)) return false;
  t_->nodes[id].a = x;
  return adopt(id, x) && push(id);
}

// Protocol 2+ opcodes (binary, >= 0x80).
bool Vm::dispatch_proto2(bool* handled) {
  *handled = true;
  const char* a;
  NodeId x, y, z;
  switch (op_) {
    case 0x80:
      if (!fixed(1, &a)) return false;
      if (static_cast<uint8_t>(a[0]) > 5)
        return bad("pickle protocol " + std::to_string(static_cast<uint8_t>(a[0])) + " is not supported");
      t_->protocol = static_cast<uint8_t>(a[0]);
      return true;
    case 0x81: return pop(&y) && pop(&x) && push_reduce(x, y, kNoNode);
    case 0x82: return op_ext(1);
    case 0x83: return op_ext(2);
    case 0x84: return op_ext(4);
    case 0x85: return op_tuple_n(1);
    case 0x86: return op_tuple_n(2);
    case 0x87: return op_tuple_n(3);
    case 0x88: return push_scalar(Kind::kBool, 1);
    case 0x89: return push_scalar(Kind::kBool, 0);
    case 0x8a: return op_long_bin(1);
    case 0x8b: return op_long_bin(4);
    case 0x8c: return op_unicode(1);
    case 0x8d: return op_unicode(8);
    case 0x8e: return op_bytes(8);
    case 0x8f: return push_container(Kind::kSet, {});
    case 0x90: return op_additems();
    case 0x91: {
      std::vector<NodeId> items;
      return pop_mark(&items) && push_container(Kind::kFrozenSet, std::move(items));
    }
    case 0x92: return pop(&z) && pop(&y) && pop(&x) && push_reduce(x, y, z);
    case 0x93: return op_stack_global();
    case 0x94: return memo_put(memo_.size());
    case 0x95: {
      if (!fixed(8, &a)) return false;
      uint64_t n = le_u(a, 8);
      if (n > remaining())
        return bad("pickle FRAME length " + count_str(n) + " exceeds the " + human_bytes(remaining()) +
                   " remaining");
      return true;
    }
    case 0x96: return op_bytes(8);
    case 0x97: return push_scalar(Kind::kBuffer, 0);
    case 0x98: return top(&x);
    default: *handled = false; return true;
  }
}

// Protocol 0/1 opcodes (printable bytes).
bool Vm::dispatch_text(bool* handled, bool* stop) {
  *handled = true;
  const char* a;
  NodeId x, y;
  std::vector<NodeId> items;
  switch (op_) {
    case '(':
      if (stack_.size() + marks_.size() >= kMaxStack) return bad("pickle stack deeper than " + count_str(kMaxStack));
      marks_.push_back(stack_.size());
      return true;
    case '.':
      if (!pop(&x)) return false;
      t_->root = x;
      *stop = true;
      return true;
    case '0':
      if (stack_.size() > (marks_.empty() ? 0 : marks_.back())) return pop(&x);
      return pop_mark(&items);
    case '1': return pop_mark(&items);
    case '2': return top(&x) && push(x);
    case 'F': return op_float_text();
    case 'I': return op_int_text(false);
    case 'L': return op_int_text(true);
    case 'J': return fixed(4, &a) && push_scalar(Kind::kInt, static_cast<int32_t>(le_u(a, 4)));
    case 'K': return fixed(1, &a) && push_scalar(Kind::kInt, static_cast<int64_t>(le_u(a, 1)));
    case 'M': return fixed(2, &a) && push_scalar(Kind::kInt, static_cast<int64_t>(le_u(a, 2)));
    case 'N': return push_scalar(Kind::kNone, 0);
    case 'P': return op_persid(false);
    case 'Q': return op_persid(true);
    case 'R': return pop(&y) && pop(&x) && push_reduce(x, y, kNoNode);
    case 'S': return op_string_text();
    case 'T': return op_string(4);
    case 'U': return op_string(1);
    case 'V': {
      std::string_view s;
      return line(&s) && push_scalar(Kind::kStr, 0, raw_unicode_unescape(s));
    }
    case 'X': return op_unicode(4);
    case 'B': return op_bytes(4);
    case 'C': return op_bytes(1);
    case 'a': return op_append(false);
    case 'e': return op_append(true);
    case 's': return op_setitems(false);
    case 'u': return op_setitems(true);
    case 'b': {
      if (!pop(&y) || !pop(&x)) return false;
      NodeId id;
      if (!make(Kind::kBuild, &id)) return false;
      t_->nodes[id].a = x;
      t_->nodes[id].b = y;
      return adopt(id, x) && adopt(id, y) && push(id);
    }
    case 'c': return op_global_text(false);
    case 'i': return op_global_text(true);
    case 'o': return op_obj();
    case 'd': return pop_mark(&items) && push_container(Kind::kDict, std::move(items));
    case '}': return push_container(Kind::kDict, {});
    case 'l': return pop_mark(&items) && push_container(Kind::kList, std::move(items));
    case ']': return push_container(Kind::kList, {});
    case 't': return pop_mark(&items) && push_container(Kind::kTuple, std::move(items));
    case ')': return push_container(Kind::kTuple, {});
    case 'g': return op_get_put(false, 0);
    case 'h': return op_get_put(false, 1);
    case 'j': return op_get_put(false, 4);
    case 'p': return op_get_put(true, 0);
    case 'q': return op_get_put(true, 1);
    case 'r': return op_get_put(true, 4);
    case 'G': {
      if (!fixed(8, &a)) return false;
      uint64_t bits = 0;
      for (int k = 0; k < 8; ++k) bits = (bits << 8) | static_cast<uint8_t>(a[k]);
      NodeId id;
      if (!make(Kind::kFloat, &id)) return false;
      std::memcpy(&t_->nodes[id].f, &bits, 8);
      return push(id);
    }
    default: *handled = false; return true;
  }
}

bool Vm::step(bool* stop) {
  bool handled = false;
  if (!(op_ >= 0x80 ? dispatch_proto2(&handled) : dispatch_text(&handled, stop))) return false;
  if (!handled) return bad("unknown pickle opcode " + hex_offset(op_));
  return true;
}

bool Vm::run(uint64_t* consumed) {
  if (p_.size() > limits::kMaxPickleBytes)
    return fail(err_, src_.path, src_.base_offset, "pickle of " + human_bytes(p_.size()) +
                                                       " exceeds limit " + human_bytes(limits::kMaxPickleBytes));
  for (uint64_t ops = 0;; ++ops) {
    op_pos_ = pos_;
    if (pos_ >= p_.size()) return bad("pickle ends without STOP");
    if (ops >= limits::kMaxPickleOps)
      return bad("pickle runs more than " + count_str(limits::kMaxPickleOps) + " opcodes");
    op_ = static_cast<uint8_t>(p_[pos_++]);
    bool stop = false;
    if (!step(&stop)) return false;
    if (stop) break;
  }
  if (consumed) *consumed = pos_;
  return true;
}

bool in(std::string_view v, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

std::string safe_finding_name(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 200)) out.push_back(static_cast<uint8_t>(c) < 0x20 ? '?' : c);
  return out;
}

}  // namespace

bool read_pickle(std::string_view bytes, const PickleSource& src, PickleTree* out, uint64_t* consumed,
                 Error* err) {
  *out = PickleTree{};
  Vm vm(bytes, src, out, err);
  return vm.run(consumed);
}

// The allowlist follows what torch.load(weights_only=True) resolves: tensor and
// parameter rebuild helpers, storage and dtype names, OrderedDict, numpy array
// reconstruction, and a few inert builtins (set, frozenset, slice, complex,
// bytearray). Anything that can run code or reach the OS is left out.
bool is_safe_global(std::string_view module, std::string_view name) {
  if (module == "collections") return in(name, {"OrderedDict", "defaultdict", "Counter"});
  if (module == "torch._utils")
    return in(name, {"_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_parameter",
                     "_rebuild_parameter_with_state", "_rebuild_qtensor", "_rebuild_sparse_tensor",
                     "_rebuild_meta_tensor_no_storage", "_rebuild_device_tensor_from_numpy",
                     "_rebuild_nested_tensor"});
  if (module == "torch._tensor") return name == "_rebuild_from_type_v2";
  if (module == "torch.nn.parameter") return name == "Parameter";
  if (module == "torch.serialization") return name == "_get_layout";
  if (module == "torch") {
    if (name.size() > 7 && name.substr(name.size() - 7) == "Storage")
      return std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
    return in(name, {"device", "Size", "Tensor", "strided", "sparse_coo", "float32", "float", "float64",
                     "double", "float16", "half", "bfloat16", "int64", "long", "int32", "int", "int16",
                     "short", "int8", "uint8", "bool", "complex64", "cfloat", "complex128", "cdouble",
                     "float8_e4m3fn", "float8_e5m2", "qint8", "quint8", "qint32", "per_tensor_affine"});
  }
  if (module == "numpy.core.multiarray" || module == "numpy._core.multiarray")
    return in(name, {"_reconstruct", "scalar"});
  if (module == "numpy") return in(name, {"ndarray", "dtype"});
  if (module == "_codecs") return name == "encode";
  if (module == "builtins" || module == "__builtin__")
    return in(name, {"set", "frozenset", "slice", "complex", "bytearray"});
  return false;
}

void add_unsafe_import_findings(const PickleTree& tree, const PickleSource& src,
                                std::vector<Finding>* out) {
  size_t n = 0, extra = 0;
  for (const GlobalRef& g : tree.globals) {
    if (is_safe_global(g.module, g.name)) continue;
    if (n++ >= kMaxUnsafeFindings) {
      ++extra;
      continue;
    }
    out->push_back({"unsafe-import", "error", src.path, g.offset,
                    "pickle imports " + safe_finding_name(g.module + "." + g.name)});
  }
  for (uint64_t off : tree.ext_offsets) {
    if (n++ >= kMaxUnsafeFindings) {
      ++extra;
      continue;
    }
    out->push_back({"unsafe-import", "error", src.path, off,
                    "pickle imports an object from the extension registry"});
  }
  if (extra > 0)
    out->push_back({"unsafe-import", "error", src.path, std::nullopt,
                    "pickle has " + std::to_string(extra) + " more unsafe imports"});
}

std::vector<std::string> global_names(const PickleTree& tree) {
  std::vector<std::string> out;
  for (const GlobalRef& g : tree.globals) out.push_back(g.module + "." + g.name);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace pedigree::pickle
