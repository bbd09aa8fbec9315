// This file implements the ggml block decoders. Each decoder turns one block
// into its 32 or 256 floats with the same float32 operations, in the same
// order, as ggml's reference dequantization (scale * q, minus scaled minimum).
// Layouts: little-endian f16 scales; 4-bit nibbles low half first.
#include "fingerprint/dequant.h"

#include <cmath>
#include <cstring>

namespace pedigree {
namespace {

constexpr int8_t kIq4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

float bits_to_float(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

float f16_at(const uint8_t* p) { return half_to_float(static_cast<uint16_t>(p[0] | (p[1] << 8))); }

uint32_t le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// Q4_0: f16 d, 16 bytes of nibbles; x = d * (q - 8).
void q4_0(const uint8_t* b, float* y) {
  float d = f16_at(b);
  for (int i = 0; i < 16; ++i) {
    y[i] = d * static_cast<float>((b[2 + i] & 0x0F) - 8);
    y[i + 16] = d * static_cast<float>((b[2 + i] >> 4) - 8);
  }
}

// Q4_1: f16 d, f16 m, 16 bytes of nibbles; x = d * q + m.
void q4_1(const uint8_t* b, float* y) {
  float d = f16_at(b), m = f16_at(b + 2);
  for (int i = 0; i < 16; ++i) {
    y[i] = d * static_cast<float>(b[4 + i] & 0x0F) + m;
    y[i + 16] = d * static_cast<float>(b[4 + i] >> 4) + m;
  }
}

// The 5-bit values of Q5_0/Q5_1: nibbles plus bit j of the 32-bit qh.
int q5(const uint8_t* qs, uint32_t qh, int j) {
  int lo = j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
  return lo | static_cast<int>(((qh >> j) & 1u) << 4);
}

// Q5_0: f16 d, u32 qh, 16 bytes of nibbles; x = d * (q - 16).
void q5_0(const uint8_t* b, float* y) {
  float d = f16_at(b);
  uint32_t qh = le32(b + 2);
  for (int j = 0; j < 32; ++j) y[j] = d * static_cast<float>(q5(b + 6, qh, j) - 16);
}

// Q5_1: f16 d, f16 m, u32 qh, 16 bytes of nibbles; x = d * q + m.
void q5_1(const uint8_t* b, float* y) {
  float d = f16_at(b), m = f16_at(b + 2);
  uint32_t qh = le32(b + 4);
  for (int j = 0; j < 32; ++j) y[j] = d * static_cast<float>(q5(b + 8, qh, j)) + m;
}

// Q8_0: f16 d, 32 int8; x = d * q.
void q8_0(const uint8_t* b, float* y) {
  float d = f16_at(b);
  for (int i = 0; i < 32; ++i) y[i] = d * static_cast<float>(static_cast<int8_t>(b[2 + i]));
}

// Element e of 256 packed as 2-bit fields: byte (e / 128) * 32 + e % 32, shift 2 * ((e % 128) / 32).
int crumb(const uint8_t* qs, int e) { return (qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3; }

// Q2_K: 16 scale bytes (low nibble scale, high nibble min), 64 bytes of
// 2-bit q, f16 d, f16 dmin; x = d * sc * q - dmin * m per 16 elements.
void q2_k(const uint8_t* b, float* y) {
  float d = f16_at(b + 80), dmin = f16_at(b + 82);
  for (int e = 0; e < 256; ++e) {
    uint8_t sc = b[e / 16];
    float dl = d * static_cast<float>(sc & 0x0F), ml = dmin * static_cast<float>(sc >> 4);
    y[e] = dl * static_cast<float>(crumb(b + 16, e)) - ml;
  }
}

// The 16 signed 6-bit scales of Q3_K: low nibbles in bytes 0-7, high crumbs in bytes 8-11.
int q3_k_scale(const uint8_t* sc, int i) {
  int lo = i < 8 ? (sc[i] & 0x0F) : (sc[i - 8] >> 4);
  int hi = (sc[8 + i % 4] >> (2 * (i / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}

// Q3_K: 32 bytes hmask, 64 bytes 2-bit q, 12 bytes scales, f16 d;
// q3 = q2 - 4 when the hmask bit is clear; x = d * scale * q3 per 16 elements.
void q3_k(const uint8_t* b, float* y) {
  float d = f16_at(b + 108);
  for (int e = 0; e < 256; ++e) {
    float dl = d * static_cast<float>(q3_k_scale(b + 96, e / 16));
    int h = (b[e % 32] >> (e / 32)) & 1;
    y[e] = dl * static_cast<float>(crumb(b + 32, e) - (h ? 0 : 4));
  }
}

// The 6-bit scale and min of sub-block j (0..7) of Q4_K/Q5_K's 12 bytes.
void k_scale_min(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Element e of 256 packed as nibbles: byte (e / 64) * 32 + e % 32, high half for (e / 32) odd.
int nibble(const uint8_t* qs, int e) { return (qs[(e / 64) * 32 + e % 32] >> (4 * ((e / 32) % 2))) & 0x0F; }

// Q4_K (qh == nullptr) and Q5_K: f16 d, f16 dmin, 12 bytes of scales/mins,
// [32 bytes qh,] 128 bytes of nibbles; x = d * sc * q - dmin * m per 32 elements.
void q45_k(const uint8_t* b, const uint8_t* qh, const uint8_t* qs, float* y) {
  float d = f16_at(b), dmin = f16_at(b + 2);
  for (int j = 0; j < 8; ++j) {
    int sc = 0, m = 0;
    k_scale_min(b + 4, j, &sc, &m);
    float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(m);
    for (int e = j * 32; e < j * 32 + 32; ++e) {
      int q = nibble(qs, e) | (qh ? ((qh[e % 32] >> (e / 32)) & 1) << 4 : 0);
      y[e] = dl * static_cast<float>(q) - ml;
    }
  }
}

void q4_k(const uint8_t* b, float* y) { q45_k(b, nullptr, b + 16, y); }
void q5_k(const uint8_t* b, float* y) { q45_k(b, b + 16, b + 48, y); }

// Q6_K: 128 bytes low nibbles, 64 bytes high crumbs, 16 int8 scales, f16 d;
// x = d * scale * (q - 32) per 16 elements.
void q6_k(const uint8_t* b, float* y) {
  float d = f16_at(b + 208);
  for (int e = 0; e < 256; ++e) {
    int h = e / 128, r = e % 128;
    int lo = (b[h * 64 + r % 64] >> (4 * (r / 64))) & 0x0F;
    int hi = (b[128 + h * 32 + r % 32] >> (2 * (r / 32))) & 3;
    float dl = d * static_cast<float>(static_cast<int8_t>(b[192 + e / 16]));
    y[e] = dl * static_cast<float>((lo | (hi << 4)) - 32);
  }
}

// Q8_K: f32 d, 256 int8, 16 int16 block sums (unused); x = d * q.
void q8_k(const uint8_t* b, float* y) {
  float d = bits_to_float(le32(b));
  for (int i = 0; i < 256; ++i) y[i] = d * static_cast<float>(static_cast<int8_t>(b[4 + i]));
}

// IQ4_NL: f16 d, 16 bytes of nibbles indexing the non-linear table; x = d * table[q].
void iq4_nl(const uint8_t* b, float* y) {
  float d = f16_at(b);
  for (int i = 0; i < 16; ++i) {
    y[i] = d * static_cast<float>(kIq4Values[b[2 + i] & 0x0F]);
    y[i + 16] = d * static_cast<float>(kIq4Values[b[2 + i] >> 4]);
  }
}

// IQ4_XS: f16 d, u16 high scale crumbs, 4 bytes low scale nibbles, 128 bytes
// of nibbles (16 bytes per 32 elements); x = d * (ls - 32) * table[q].
void iq4_xs(const uint8_t* b, float* y) {
  float d = f16_at(b);
  unsigned sh = b[2] | (b[3] << 8);
  for (int j = 0; j < 8; ++j) {
    int ls = ((b[4 + j / 2] >> (4 * (j % 2))) & 0x0F) | (((sh >> (2 * j)) & 3) << 4);
    float dl = d * static_cast<float>(ls - 32);
    const uint8_t* qs = b + 8 + j * 16;
    for (int i = 0; i < 16; ++i) {
      y[j * 32 + i] = dl * static_cast<float>(kIq4Values[qs[i] & 0x0F]);
      y[j * 32 + 16 + i] = dl * static_cast<float>(kIq4Values[qs[i] >> 4]);
    }
  }
}

using BlockFn = void (*)(const uint8_t*, float*);

BlockFn decoder(DType t) {
  switch (t) {
    case DType::Q4_0: return q4_0;
    case DType::Q4_1: return q4_1;
    case DType::Q5_0: return q5_0;
    case DType::Q5_1: return q5_1;
    case DType::Q8_0: return q8_0;
    case DType::Q2_K: return q2_k;
    case DType::Q3_K: return q3_k;
    case DType::Q4_K: return q4_k;
    case DType::Q5_K: return q5_k;
    case DType::Q6_K: return q6_k;
    case DType::Q8_K: return q8_k;
    case DType::IQ4_NL: return iq4_nl;
    case DType::IQ4_XS: return iq4_xs;
    default: return nullptr;
  }
}

}  // namespace

float half_to_float(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
  if (exp == 0) {
    float v = std::ldexp(static_cast<float>(man), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return bits_to_float((sign << 31) | 0x7F800000u | (man << 13));
  return bits_to_float((sign << 31) | ((exp + 112) << 23) | (man << 13));
}

bool dequant_supported(DType t) { return decoder(t) != nullptr; }

bool dequantize_blocks(DType t, const uint8_t* p, uint64_t blocks, float* out) {
  BlockFn fn = decoder(t);
  if (!fn) return false;
  const DTypeInfo& info = dtype_info(t);
  for (uint64_t i = 0; i < blocks; ++i, p += info.block_bytes, out += info.block_elems) fn(p, out);
  return true;
}

std::string_view dequant_type_list() {
  return "Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL, IQ4_XS";
}

}  // namespace pedigree
