// This file implements a restricted pickle *reader*: it interprets the pickle
// opcodes of protocols 0-5 into a plain data tree and never imports, calls or
// executes anything. Every GLOBAL / STACK_GLOBAL reference is recorded with its
// byte offset so callers can report unsafe imports; all sizes are bounded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/artifact.h"
#include "fingerprint/error.h"

namespace pedigree::pickle {

/// Index of a node in PickleTree::nodes.
using NodeId = uint32_t;
/// "No node" marker for the optional links of a Node.
inline constexpr NodeId kNoNode = 0xffffffffu;

/// What a node holds.
enum class Kind : uint8_t {
  kNone,
  kBool,       ///< `i` is 0 or 1
  kInt,        ///< `i`
  kBigInt,     ///< integer beyond int64: `text` is "0x..." / "-0x..." (binary) or decimal (text LONG)
  kFloat,      ///< `f`
  kStr,        ///< `text` (UTF-8)
  kBytes,      ///< `text` (raw bytes; also bytearray and protocol-0 STRING)
  kTuple,      ///< `items`
  kList,       ///< `items`
  kDict,       ///< `pairs` (k0, v0, k1, v1, ...), insertion order
  kSet,        ///< `items`
  kFrozenSet,  ///< `items`
  kGlobal,     ///< `i` indexes PickleTree::globals
  kReduce,     ///< `a` callable, `b` args, `c` kwargs (NEWOBJ_EX) or kNoNode; APPENDS/SETITEMS
               ///< applied to the result land in `items` / `pairs`
  kBuild,      ///< `a` object, `b` state (BUILD)
  kPersId,     ///< `a` the persistent id value (PERSID / BINPERSID)
  kExt,        ///< extension-registry code `i` (EXT1/2/4)
  kBuffer,     ///< an out-of-band buffer (NEXT_BUFFER); no data
};

/// One value of the data tree. Children are indices, so the tree is stored
/// flat (no recursive destruction) and memo references share nodes.
struct Node {
  Kind kind = Kind::kNone;
  uint32_t depth = 0;   ///< container nesting as built (0 for scalars)
  uint64_t offset = 0;  ///< offset of the opcode that created it
  int64_t i = 0;
  double f = 0;
  std::string text;
  NodeId a = kNoNode, b = kNoNode, c = kNoNode;
  std::vector<NodeId> items;
  std::vector<NodeId> pairs;
};

/// One GLOBAL / STACK_GLOBAL / INST reference.
struct GlobalRef {
  std::string module;
  std::string name;
  uint64_t offset = 0;  ///< offset of the opcode
};

/// The result of reading one pickle program.
struct PickleTree {
  std::vector<Node> nodes;
  std::vector<GlobalRef> globals;
  std::vector<uint64_t> ext_offsets;  ///< offsets of EXT1/2/4 opcodes
  NodeId root = kNoNode;
  int protocol = 0;
  const Node& at(NodeId id) const { return nodes[id]; }
};

/// Where a pickle program lives, for error and finding offsets.
struct PickleSource {
  std::string path;          ///< reported path
  uint64_t base_offset = 0;  ///< added to program offsets (absolute file offsets)
};

/// Reads one pickle program from the start of `bytes` up to and including its
/// STOP opcode; `*consumed` (optional) gets the program length. Bounded by
/// limits::kMaxPickleBytes, kMaxPickleOps and kMaxNesting and by the caps in
/// pickle_vm.cpp. Returns false with `err` on malformed input.
bool read_pickle(std::string_view bytes, const PickleSource& src, PickleTree* out,
                 uint64_t* consumed, Error* err);

/// True for the references a weights-only loader may resolve (torch rebuild
/// helpers and storage types, collections.OrderedDict, numpy reconstruction).
bool is_safe_global(std::string_view module, std::string_view name);

/// Appends an "unsafe-import" error finding for every reference outside
/// is_safe_global() (and every EXT opcode), in program order.
void add_unsafe_import_findings(const PickleTree& tree, const PickleSource& src,
                                std::vector<Finding>* out);

/// "module.name" of every global reference, sorted and unique.
std::vector<std::string> global_names(const PickleTree& tree);

}  // namespace pedigree::pickle
