// Tests for fingerprint/formats/pickle_vm.cpp: every opcode family, genuine
// CPython pickles of protocols 0-5, the allowlist and unsafe-import findings,
// and exact errors for malformed programs (truncation, underflow, nesting...).
#include "fingerprint/formats/pickle_vm.h"

#include <gtest/gtest.h>

#include "tests/support/pickle_writer.h"

namespace pedigree::pickle {
namespace {

using test::PickleWriter;

using test::unhex;

bool parse(std::string_view bytes, PickleTree* t, Error* err, uint64_t base = 0) {
  return read_pickle(bytes, PickleSource{"p.pkl", base}, t, nullptr, err);
}

std::string parse_error(std::string_view bytes) {
  PickleTree t;
  Error err;
  EXPECT_FALSE(parse(bytes, &t, &err));
  return err.str();
}

// Bytes from hex digits, spaces ignored.
std::string H(std::string_view hex) {
  std::string h;
  for (char c : hex)
    if (c != ' ') h.push_back(c);
  return unhex(h);
}

const Node& item(const PickleTree& t, NodeId id, size_t i) { return t.at(t.at(id).items.at(i)); }

// pickle.dumps(obj, protocol=p) with /usr/bin/python3 (CPython 3.11), where
// obj = {'a': [1, 2.5, 'x\u00e9', b'y', None, True, (1, 2), 2**70, -2**70, {7},
//              frozenset([3]), bytearray(b'z')], 'b': -1}
const char* const kCpython[6] = {
    "286470300a56610a70310a286c70320a49310a6146322e350a615678e90a70330a61635f636f646563730a656e636f64"
    "650a70340a2856790a70350a566c6174696e310a70360a7470370a5270380a614e614930310a612849310a49320a7470"
    "390a614c313138303539313632303731373431313330333432344c0a614c2d3131383035393136323037313734313133"
    "30333432344c0a61635f5f6275696c74696e5f5f0a7365740a7031300a28286c7031310a49370a61747031320a527031"
    "330a61635f5f6275696c74696e5f5f0a66726f7a656e7365740a7031340a28286c7031350a49330a61747031360a5270"
    "31370a61635f5f6275696c74696e5f5f0a6279746561727261790a7031380a2867340a28567a0a7031390a67360a7470"
    "32300a527032310a747032320a527032330a617356620a7032340a492d310a732e",
    "7d71002858010000006171015d7102284b01474004000000000000580300000078c3a97103635f636f646563730a656e"
    "636f64650a710428580100000079710558060000006c6174696e3171067471075271084e4930310a284b014b02747109"
    "4c313138303539313632303731373431313330333432344c0a4c2d313138303539313632303731373431313330333432"
    "344c0a635f5f6275696c74696e5f5f0a7365740a710a285d710b4b076174710c52710d635f5f6275696c74696e5f5f0a"
    "66726f7a656e7365740a710e285d710f4b0361747110527111635f5f6275696c74696e5f5f0a6279746561727261790a"
    "71122868042858010000007a711368067471145271157471165271176558010000006271184affffffff752e",
    "80027d71002858010000006171015d7102284b01474004000000000000580300000078c3a97103635f636f646563730a"
    "656e636f64650a7104580100000079710558060000006c6174696e3171068671075271084e884b014b028671098a0900"
    "00000000000000408a090000000000000000c0635f5f6275696c74696e5f5f0a7365740a710a5d710b4b076185710c52"
    "710d635f5f6275696c74696e5f5f0a66726f7a656e7365740a710e5d710f4b0361857110527111635f5f6275696c7469"
    "6e5f5f0a6279746561727261790a7112680458010000007a711368068671145271158571165271176558010000006271"
    "184affffffff752e",
    "80037d71002858010000006171015d7102284b01474004000000000000580300000078c3a9710343017971044e884b01"
    "4b028671058a090000000000000000408a090000000000000000c0636275696c74696e730a7365740a71065d71074b07"
    "61857108527109636275696c74696e730a66726f7a656e7365740a710a5d710b4b036185710c52710d636275696c7469"
    "6e730a6279746561727261790a710e43017a710f8571105271116558010000006271124affffffff752e",
    "80049575000000000000007d94288c0161945d94284b014740040000000000008c0378c3a994430179944e884b014b02"
    "86948a090000000000000000408a090000000000000000c08f94284b0790284b0391948c086275696c74696e73948c09"
    "62797465617272617994939443017a9485945294658c0162944affffffff752e",
    "8005955f000000000000007d94288c0161945d94284b014740040000000000008c0378c3a994430179944e884b014b02"
    "86948a090000000000000000408a090000000000000000c08f94284b0790284b0391949601000000000000007a94658c"
    "0162944affffffff752e",
};

TEST(PickleVm, CpythonProtocols0To5) {
  for (int p = 0; p < 6; ++p) {
    SCOPED_TRACE("protocol " + std::to_string(p));
    std::string bytes = unhex(kCpython[p]);
    PickleTree t;
    Error err;
    uint64_t consumed = 0;
    ASSERT_TRUE(read_pickle(bytes, PickleSource{"p.pkl", 0}, &t, &consumed, &err)) << err.str();
    EXPECT_EQ(consumed, bytes.size());
    const Node& root = t.at(t.root);
    ASSERT_EQ(root.kind, Kind::kDict);
    ASSERT_EQ(root.pairs.size(), 4u);
    EXPECT_EQ(t.at(root.pairs[0]).text, "a");
    EXPECT_EQ(t.at(root.pairs[2]).text, "b");
    EXPECT_EQ(t.at(root.pairs[3]).kind, Kind::kInt);
    EXPECT_EQ(t.at(root.pairs[3]).i, -1);
    NodeId list = root.pairs[1];
    ASSERT_EQ(t.at(list).kind, Kind::kList);
    ASSERT_EQ(t.at(list).items.size(), 12u);
    EXPECT_EQ(item(t, list, 0).i, 1);
    EXPECT_EQ(item(t, list, 1).kind, Kind::kFloat);
    EXPECT_EQ(item(t, list, 1).f, 2.5);
    EXPECT_EQ(item(t, list, 2).kind, Kind::kStr);
    EXPECT_EQ(item(t, list, 2).text, "x\xc3\xa9");
    EXPECT_EQ(item(t, list, 4).kind, Kind::kNone);
    EXPECT_EQ(item(t, list, 5).kind, Kind::kBool);
    EXPECT_EQ(item(t, list, 5).i, 1);
    EXPECT_EQ(item(t, list, 6).kind, Kind::kTuple);
    EXPECT_EQ(item(t, list, 7).kind, Kind::kBigInt);
    EXPECT_EQ(item(t, list, 8).kind, Kind::kBigInt);
    if (p < 2) {  // text LONG keeps decimal
      EXPECT_EQ(item(t, list, 7).text, "1180591620717411303424");
      EXPECT_EQ(item(t, list, 8).text, "-1180591620717411303424");
    } else {
      EXPECT_EQ(item(t, list, 7).text, "0x400000000000000000");
      EXPECT_EQ(item(t, list, 8).text, "-0x400000000000000000");
    }
    if (p >= 3) {
      EXPECT_EQ(item(t, list, 3).kind, Kind::kBytes);
    }
    if (p >= 4) {
      EXPECT_EQ(item(t, list, 9).kind, Kind::kSet);
      EXPECT_EQ(item(t, list, 10).kind, Kind::kFrozenSet);
    }
    if (p == 5) {
      EXPECT_EQ(item(t, list, 11).kind, Kind::kBytes);
    }
    std::vector<Finding> f;
    add_unsafe_import_findings(t, PickleSource{"p.pkl", 0}, &f);
    EXPECT_TRUE(f.empty()) << f[0].message;  // _codecs.encode, builtins.set/frozenset/bytearray are allowed
  }
}

TEST(PickleVm, IntegerEncodings) {
  PickleWriter w;
  w.proto(2).mark().op('J').le(0xfffffffb, 4).op('K').op(7).op('M').le(300, 2);
  w.op(0x8a).op(8).le(0x7fffffffffffffffULL, 8);          // LONG1 int64 max
  w.op(0x8a).op(9).le(0, 8).op(0x80);                       // LONG1 -2^71 (needs 9 bytes)
  w.op(0x8a).op(0);                                         // LONG1 zero
  w.op(0x8b).le(2, 4).op(0xff).op(0xff);                    // LONG4 -1
  w.op(0x8a).op(10).le(0xffffffffffffffffULL, 8).op(0).op(0); // 2^64-1 as LONG1
  w.raw("I-12\n").raw("L99999999999999999999999L\n").raw("I01\n");
  w.tuple().stop();
  PickleTree t;
  Error err;
  ASSERT_TRUE(parse(w.bytes(), &t, &err)) << err.str();
  NodeId tup = t.root;
  EXPECT_EQ(item(t, tup, 0).i, -5);
  EXPECT_EQ(item(t, tup, 1).i, 7);
  EXPECT_EQ(item(t, tup, 2).i, 300);
  EXPECT_EQ(item(t, tup, 3).i, INT64_MAX);
  EXPECT_EQ(item(t, tup, 4).text, "-0x800000000000000000");
  EXPECT_EQ(item(t, tup, 5).i, 0);
  EXPECT_EQ(item(t, tup, 6).i, -1);
  EXPECT_EQ(item(t, tup, 7).text, "0xffffffffffffffff");
  EXPECT_EQ(item(t, tup, 8).i, -12);
  EXPECT_EQ(item(t, tup, 9).kind, Kind::kBigInt);
  EXPECT_EQ(item(t, tup, 9).text, "99999999999999999999999");
  EXPECT_EQ(item(t, tup, 10).kind, Kind::kBool);
}

TEST(PickleVm, StringsBytesAndText) {
  PickleWriter w;
  w.proto(4).mark().op(0x8c).op(2).raw("hi").op(0x8d).le(1, 8).raw("u");
  w.op('C').op(1).raw("b").op('B').le(2, 4).raw("bb").op(0x8e).le(1, 8).raw("c").op(0x96).le(1, 8).raw("d");
  w.op('U').op(3).raw("abc").op('T').le(1, 4).raw("\xff");
  w.raw("S'a\\'b\\x41\\n'\n").raw("V\\u00e9z\n").raw("F-1.25\n");
  w.tuple().stop();
  PickleTree t;
  Error err;
  ASSERT_TRUE(parse(w.bytes(), &t, &err)) << err.str();
  const std::vector<std::pair<Kind, std::string>> want = {
      {Kind::kStr, "hi"},   {Kind::kStr, "u"},    {Kind::kBytes, "b"}, {Kind::kBytes, "bb"},
      {Kind::kBytes, "c"},  {Kind::kBytes, "d"},  {Kind::kStr, "abc"}, {Kind::kBytes, "\xff"},
      {Kind::kStr, "a'bA\n"}, {Kind::kStr, "\xc3\xa9z"}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(item(t, t.root, i).kind, want[i].first) << i;
    EXPECT_EQ(item(t, t.root, i).text, want[i].second) << i;
  }
  EXPECT_EQ(item(t, t.root, 10).f, -1.25);
  EXPECT_EQ(t.protocol, 4);
}

TEST(PickleVm, ContainersMemoAndObjects) {
  PickleWriter v;
  v.proto(4).op(0x95).le(0, 8).mark();                                       // empty FRAME
  v.op(']').op(0x94).integer(1).op('a').mark().integer(2).integer(3).op('e');  // 0: [1,2,3], memo 0
  v.op('}').put(1).str("k").get(0).op('s');                                  // 1: {'k': <list>}
  v.op(0x8f).mark().integer(9).op(0x90);                                     // 2: {9}
  v.stack_global("m", "C").op(')').op(0x81);                                 // 3: NEWOBJ
  v.op(0x82).op(42).op(0x97).op(0x98);                                       // 4, 5: EXT1, NEXT_BUFFER
  v.mark().global("m", "O").integer(2).op('o');                              // 6: OBJ
  v.mark().integer(1).integer(2).op('l').op('2').op('0');                    // 7: LIST, DUP, POP
  v.mark().str("x").integer(3).op('d');                                      // 8: DICT
  v.integer(7).raw("p5\n").op('0').raw("g5\n");                            // 9: PUT, POP, GET
  v.op('j').le(5, 4).op('r').le(6, 4).op('h').op(6);                         // 10, 11
  v.mark().integer(1).op('1');                                               // POP_MARK
  v.mark().integer(4).op(0x91);                                              // 12: FROZENSET
  v.integer(1).op(0x85).integer(2).op(0x86).integer(3).integer(4).op(0x87);  // 13: (((1,),2),3,4)
  v.tuple().stop();
  PickleTree t;
  Error err;
  ASSERT_TRUE(parse(v.bytes(), &t, &err)) << err.str();
  const Node& root = t.at(t.root);
  ASSERT_EQ(root.kind, Kind::kTuple);
  ASSERT_EQ(root.items.size(), 14u);
  EXPECT_EQ(item(t, t.root, 0).items.size(), 3u);
  EXPECT_EQ(item(t, t.root, 1).pairs[1], root.items[0]);  // memo shares the list
  EXPECT_EQ(item(t, t.root, 2).kind, Kind::kSet);
  EXPECT_EQ(item(t, t.root, 3).kind, Kind::kReduce);
  EXPECT_EQ(item(t, t.root, 4).kind, Kind::kExt);
  EXPECT_EQ(item(t, t.root, 4).i, 42);
  EXPECT_EQ(item(t, t.root, 5).kind, Kind::kBuffer);
  EXPECT_EQ(item(t, t.root, 6).kind, Kind::kReduce);
  EXPECT_EQ(item(t, t.root, 7).kind, Kind::kList);
  EXPECT_EQ(item(t, t.root, 8).kind, Kind::kDict);
  for (size_t k : {9, 10, 11}) {
    EXPECT_EQ(item(t, t.root, k).i, 7) << k;
  }
  EXPECT_EQ(item(t, t.root, 12).kind, Kind::kFrozenSet);
  EXPECT_EQ(item(t, t.root, 12).items.size(), 1u);
  EXPECT_EQ(item(t, t.root, 13).kind, Kind::kTuple);
  EXPECT_EQ(item(t, t.root, 13).items.size(), 3u);
  EXPECT_EQ(item(t, t.root, 13).depth, 3u);
  ASSERT_EQ(t.globals.size(), 2u);
  EXPECT_EQ(t.globals[0].module, "m");
  EXPECT_EQ(t.globals[0].name, "C");
  EXPECT_EQ(t.ext_offsets.size(), 1u);
}

TEST(PickleVm, StructureOfObjects) {
  PickleWriter w;
  w.proto(2).mark();
  w.global("m", "E").op(')').reduce().str("state").op('b');         // 0: build
  w.raw("Pkey\n");                                                   // 1: persid
  w.mark().integer(1).raw("im\nIn\n");                              // 2: inst -> reduce
  w.stack_global("m", "D").op(')').op('}').op(0x92);                 // 3: newobj_ex
  w.global("collections", "OrderedDict").op(')').reduce().mark().str("a").integer(1).op('u');  // 4
  w.tuple().stop();
  PickleTree t;
  Error err;
  ASSERT_TRUE(parse(w.bytes(), &t, &err)) << err.str();
  const Node& b = item(t, t.root, 0);
  ASSERT_EQ(b.kind, Kind::kBuild);
  EXPECT_EQ(t.at(b.a).kind, Kind::kReduce);
  EXPECT_EQ(t.at(b.b).text, "state");
  const Node& p = item(t, t.root, 1);
  ASSERT_EQ(p.kind, Kind::kPersId);
  EXPECT_EQ(t.at(p.a).text, "key");
  const Node& inst = item(t, t.root, 2);
  ASSERT_EQ(inst.kind, Kind::kReduce);
  EXPECT_EQ(t.globals[static_cast<size_t>(t.at(inst.a).i)].name, "In");
  EXPECT_EQ(t.at(inst.b).items.size(), 1u);
  const Node& nx = item(t, t.root, 3);
  EXPECT_EQ(nx.kind, Kind::kReduce);
  EXPECT_EQ(t.at(nx.c).kind, Kind::kDict);
  const Node& od = item(t, t.root, 4);
  ASSERT_EQ(od.kind, Kind::kReduce);
  EXPECT_EQ(od.pairs.size(), 2u);
  EXPECT_EQ(global_names(t), (std::vector<std::string>{"collections.OrderedDict", "m.D", "m.E", "m.In"}));
}

TEST(PickleVm, SelfReferencingListIsBounded) {
  PickleWriter w;
  w.proto(2).op(']').put(0);
  for (int i = 0; i < 100; ++i) w.get(0).op('a');
  w.stop();
  EXPECT_EQ(parse_error(w.bytes()), "p.pkl: offset 0xc7: pickle containers nest deeper than 64 levels");
  PickleWriter once;
  once.proto(2).op(']').put(0).get(0).op('a').stop();
  PickleTree t;
  Error err;
  ASSERT_TRUE(parse(once.bytes(), &t, &err)) << err.str();
  EXPECT_EQ(t.at(t.root).items[0], t.root);
}

TEST(PickleVm, UnsafeImportFindings) {
  PickleWriter w;
  w.proto(4).mark();
  size_t os_off = w.pos();
  w.global("os", "system");
  size_t eval_off = w.pos() + 22;  // after the two strings of STACK_GLOBAL
  w.stack_global("builtins", "eval");
  size_t popen_off = w.pos();
  w.global("subprocess", "Popen");
  w.global("collections", "OrderedDict").global("torch._utils", "_rebuild_tensor_v2").global("torch", "BFloat16Storage");
  w.global("numpy.core.multiarray", "_reconstruct").global("builtins", "set");
  size_t ext_off = w.pos();
  w.op(0x83).le(7, 2).tuple().stop();
  PickleTree t;
  Error err;
  ASSERT_TRUE(parse(w.bytes(), &t, &err, 0x100)) << err.str();
  std::vector<Finding> f;
  add_unsafe_import_findings(t, PickleSource{"m.pt", 0x100}, &f);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].id, "unsafe-import");
  EXPECT_EQ(f[0].severity, "error");
  EXPECT_EQ(f[0].path, "m.pt");
  EXPECT_EQ(f[0].message, "pickle imports os.system");
  EXPECT_EQ(f[0].offset, 0x100 + os_off);
  EXPECT_EQ(f[1].message, "pickle imports builtins.eval");
  EXPECT_EQ(f[1].offset, 0x100 + eval_off);
  EXPECT_EQ(f[2].message, "pickle imports subprocess.Popen");
  EXPECT_EQ(f[2].offset, 0x100 + popen_off);
  EXPECT_EQ(f[3].message, "pickle imports an object from the extension registry");
  EXPECT_EQ(f[3].offset, 0x100 + ext_off);
}

TEST(PickleVm, Allowlist) {
  EXPECT_TRUE(is_safe_global("torch", "HalfStorage"));
  EXPECT_TRUE(is_safe_global("torch", "UntypedStorage"));
  EXPECT_TRUE(is_safe_global("torch._utils", "_rebuild_parameter"));
  EXPECT_TRUE(is_safe_global("numpy", "dtype"));
  EXPECT_TRUE(is_safe_global("_codecs", "encode"));
  EXPECT_FALSE(is_safe_global("torch", "load"));
  EXPECT_FALSE(is_safe_global("torch", "os.Storage"));
  EXPECT_FALSE(is_safe_global("posix", "system"));
  EXPECT_FALSE(is_safe_global("builtins", "exec"));
  EXPECT_FALSE(is_safe_global("builtins", "getattr"));
  EXPECT_FALSE(is_safe_global("runpy", "_run_code"));
  EXPECT_FALSE(is_safe_global("collections", "namedtuple"));
}

TEST(PickleVm, UnknownOpcode) {
  EXPECT_EQ(parse_error(H("80 02 ff")), "p.pkl: offset 0x2: unknown pickle opcode 0xff");
  EXPECT_EQ(parse_error(H("80 02 99 2e")), "p.pkl: offset 0x2: unknown pickle opcode 0x99");
}

TEST(PickleVm, TruncatedAtEveryPrefix) {
  std::string full = unhex(kCpython[4]);
  for (size_t n = 0; n < full.size(); ++n) {
    PickleTree t;
    Error err;
    EXPECT_FALSE(parse(full.substr(0, n), &t, &err)) << n;
    EXPECT_FALSE(err.message.empty()) << n;
  }
  std::string full0 = unhex(kCpython[0]);
  for (size_t n = 0; n < full0.size(); ++n) {
    PickleTree t;
    Error err;
    EXPECT_FALSE(parse(full0.substr(0, n), &t, &err)) << n;
  }
  EXPECT_EQ(parse_error(full.substr(0, 2)), "p.pkl: offset 0x2: pickle ends without STOP");
  EXPECT_EQ(parse_error(full.substr(0, 5)), "p.pkl: offset 0x2: pickle truncated in FRAME argument (8 B needed, 2 B remain)");
  EXPECT_EQ(parse_error(full.substr(0, 11)), "p.pkl: offset 0x2: pickle FRAME length 117 exceeds the 0 B remaining");
  std::string p2 = unhex(kCpython[2]);
  EXPECT_EQ(parse_error(p2.substr(0, 9)), "p.pkl: offset 0x6: pickle truncated in BINUNICODE argument (4 B needed, 2 B remain)");
  EXPECT_EQ(parse_error(p2.substr(0, 11)), "p.pkl: offset 0x6: pickle BINUNICODE length 1 exceeds the 0 B remaining");
  EXPECT_EQ(parse_error(p2.substr(0, 12)), "p.pkl: offset 0xc: pickle ends without STOP");
  EXPECT_EQ(parse_error(H("80 02 4a 01 02")), "p.pkl: offset 0x2: pickle truncated in BININT argument (4 B needed, 2 B remain)");
  EXPECT_EQ(parse_error("cos\nsys"), "p.pkl: offset 0x0: pickle truncated in GLOBAL argument (no newline)");
}

TEST(PickleVm, MalformedPrograms) {
  EXPECT_EQ(parse_error(H("80 02 2e")), "p.pkl: offset 0x2: pickle stack underflow at STOP");
  EXPECT_EQ(parse_error(H("80 02 4b 01 52 2e")), "p.pkl: offset 0x4: pickle stack underflow at REDUCE");
  EXPECT_EQ(parse_error(H("80 02 4b 01 4b 01 28 52 2e")), "p.pkl: offset 0x7: pickle stack underflow at REDUCE");
  EXPECT_EQ(parse_error(H("80 02 68 05 2e")), "p.pkl: offset 0x2: pickle memo key 5 is not defined");
  EXPECT_EQ(parse_error(H("80 02 6a 00 00 01 00 2e")), "p.pkl: offset 0x2: pickle memo key 65536 is not defined");
  EXPECT_EQ(parse_error(H("80 02 4b 01")), "p.pkl: offset 0x4: pickle ends without STOP");
  EXPECT_EQ(parse_error(H("80 02 8b 00 00 00 80 01 02 03")),
            "p.pkl: offset 0x2: pickle LONG4 length -2147483648 is negative");
  EXPECT_EQ(parse_error(H("80 02 8b ff ff ff 7f 01 02 03")),
            "p.pkl: offset 0x2: pickle LONG4 length 2147483647 exceeds the 3 B remaining");
  EXPECT_EQ(parse_error(H("80 02 8e 00 00 00 80 00 00 00 00 2e")),
            "p.pkl: offset 0x2: pickle BINBYTES8 length 2^31 exceeds the 1 B remaining");
  EXPECT_EQ(parse_error(H("80 02 58 00 01 00 00 61 62 63 2e")),
            "p.pkl: offset 0x2: pickle BINUNICODE length 256 exceeds the 4 B remaining");
  EXPECT_EQ(parse_error(H("80 02 54 fe ff ff ff 2e")), "p.pkl: offset 0x2: pickle BINSTRING length -2 is negative");
  EXPECT_EQ(parse_error(H("80 06 2e")), "p.pkl: offset 0x0: pickle protocol 6 is not supported");
  EXPECT_EQ(parse_error(H("80 02 28 4b 01 64 2e")), "p.pkl: offset 0x5: pickle DICT has an odd number of items");
  EXPECT_EQ(parse_error(H("80 02 4b 01 4b 02 93 2e")), "p.pkl: offset 0x6: pickle STACK_GLOBAL operands are not strings");
  EXPECT_EQ(parse_error(H("80 02 4b 01 4b 02 61 2e")), "p.pkl: offset 0x6: pickle APPEND target is not a list");
  EXPECT_EQ(parse_error(H("80 02 5d 4b 02 4b 03 73 2e")), "p.pkl: offset 0x7: pickle SETITEM target is not a dict");
  EXPECT_EQ(parse_error(H("80 02 65 2e")), "p.pkl: offset 0x2: pickle APPENDS without a preceding MARK");
  EXPECT_EQ(parse_error(H("80 02 8c 02 c3 28 2e")), "p.pkl: offset 0x2: pickle SHORT_BINUNICODE string is not valid UTF-8");
  EXPECT_EQ(parse_error("Ixyz\n."), "p.pkl: offset 0x0: pickle INT value 'xyz' is not an integer");
  EXPECT_EQ(parse_error("F1.5x\n."), "p.pkl: offset 0x0: pickle FLOAT value '1.5x' is not a number");
  EXPECT_EQ(parse_error("Sabc\n."), "p.pkl: offset 0x0: pickle STRING argument is not a quoted string");
  EXPECT_EQ(parse_error("gx\n."), "p.pkl: offset 0x0: pickle GET key 'x' is not a memo index");
  EXPECT_EQ(parse_error(H("80 04 95 ff 00 00 00 00 00 00 00 2e")),
            "p.pkl: offset 0x2: pickle FRAME length 255 exceeds the 1 B remaining");
  EXPECT_EQ(parse_error(H("80 02 29 28 91 71 01 0a 2e")), "p.pkl: offset 0x7: unknown pickle opcode 0xa");
}

TEST(PickleVm, GlobalNamesAreBounded) {
  PickleWriter w;
  w.proto(4).str("m").str(std::string(70000, 'n'));
  size_t at = w.pos();
  w.op(0x93).stop();
  EXPECT_EQ(parse_error(w.bytes()), "p.pkl: offset " + hex_offset(at) + ": pickle STACK_GLOBAL name of 68.4 KiB exceeds limit 64.0 KiB");
  // One 60 KiB name referenced again and again: the total is capped too.
  PickleWriter r;
  r.proto(4).str("m").put(0).str(std::string(60000, 'n')).put(1);
  for (int i = 0; i < 300; ++i) r.get(0).get(1).op(0x93).op('0');
  r.stop();
  PickleTree t;
  Error err;
  EXPECT_FALSE(parse(r.bytes(), &t, &err));
  EXPECT_EQ(err.message, "pickle global references exceed 16.0 MiB in total");
}

TEST(PickleVm, OpcodeAndStackCaps) {
  // MARK + POP_MARK pairs create no values; the opcode budget still ends them.
  std::string ops;
  ops.reserve((50u << 20) + 2);
  while (ops.size() < (50u << 20) + 2) ops += "(1";
  ops += ".";
  EXPECT_EQ(parse_error(ops), "p.pkl: offset 0x3200000: pickle runs more than 52428800 opcodes");
  std::string marks((1u << 22) + 1, '(');
  EXPECT_EQ(parse_error(marks), "p.pkl: offset 0x400000: pickle stack deeper than 2^22");
}

TEST(PickleVm, DeepNestingErrorsCleanly) {
  // 100k nested empty lists appended into each other: [[[[...]]]]
  std::string p = "\x80\x02";
  for (int i = 0; i < 100000; ++i) p += "]";
  for (int i = 0; i < 99999; ++i) p += "a";
  p += ".";
  EXPECT_EQ(parse_error(p), "p.pkl: offset 0x186e2: pickle containers nest deeper than 64 levels");
  // 100k open MARKs then tuples: same limit, no recursion.
  std::string q = "\x80\x02";
  for (int i = 0; i < 100000; ++i) q += "(";
  for (int i = 0; i < 100000; ++i) q += "t";
  q += ".";
  PickleTree t;
  Error err;
  EXPECT_FALSE(parse(q, &t, &err));
  EXPECT_EQ(err.message, "pickle containers nest deeper than 64 levels");
  // 64 levels are fine.
  std::string ok = "\x80\x02";
  for (int i = 0; i < 65; ++i) ok += "]";
  for (int i = 0; i < 64; ++i) ok += "a";
  ok += ".";
  ASSERT_TRUE(parse(ok, &t, &err)) << err.str();
  EXPECT_EQ(t.at(t.root).depth, 64u);
}

TEST(PickleVm, ConsumedStopsAtStop) {
  std::string two = "\x80\x02K\x01.\x80\x02K\x02.";
  PickleTree t;
  Error err;
  uint64_t n = 0;
  ASSERT_TRUE(read_pickle(two, PickleSource{"p", 0}, &t, &n, &err));
  EXPECT_EQ(n, 5u);
  EXPECT_EQ(t.at(t.root).i, 1);
}

}  // namespace
}  // namespace pedigree::pickle
