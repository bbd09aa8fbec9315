// This file implements the ggml block decoders. Each decoder turns one block
// into its 32, 64, 128 or 256 floats with the same float32 operations, in the
// same order, as ggml's reference dequantization (scale * q, minus scaled
// minimum; lattice types: scale * grid level * sign). Layouts: little-endian
// f16 scales; 4-bit nibbles low half first.
#include "fingerprint/dequant.h"

#include <cmath>
#include <cstring>

#include "fingerprint/dequant_grids.h"

namespace pedigree {
namespace {

using namespace dequant_grids;

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

// Q8_1: f16 d, f16 s (d * sum of q, unused), 32 int8; x = d * q. ggml has no
// Q8_1 dequantizer (it is a dot-product operand); this is the layout's meaning.
void q8_1(const uint8_t* b, float* y) {
  float d = f16_at(b);
  for (int i = 0; i < 32; ++i) y[i] = d * static_cast<float>(static_cast<int8_t>(b[4 + i]));
}

// Q1_0: f16 d, 16 bytes of bits (element j at bit j % 8 of byte j / 8); x = bit ? d : -d.
void q1_0(const uint8_t* b, float* y) {
  float d = f16_at(b), neg = -d;
  for (int j = 0; j < 128; ++j) y[j] = ((b[2 + j / 8] >> (j % 8)) & 1) ? d : neg;
}

// Q2_0: f16 d, 16 bytes of 2-bit q (element j at bit 2 * (j % 4) of byte j / 4); x = (q - 1) * d.
void q2_0(const uint8_t* b, float* y) {
  float d = f16_at(b);
  for (int j = 0; j < 64; ++j) y[j] = static_cast<float>(((b[2 + j / 4] >> (2 * (j % 4))) & 3) - 1) * d;
}

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// The ternary value of a TQ1_0 byte `q` for power of three `pow3`: the
// fixed-point base-3 digit, minus one.
float trit(uint8_t q, uint8_t pow3) {
  auto shifted = static_cast<uint8_t>(q * pow3);
  return static_cast<float>(((shifted * 3) >> 8) - 1);
}

// TQ1_0: 48 bytes of five trits each (32 then 16 bytes), 4 bytes of four
// trits each, f16 d; element order: digit-major within each group of bytes.
void tq1_0(const uint8_t* b, float* y) {
  static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
  float d = f16_at(b + 52);
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 32; ++m) *y++ = trit(b[m], kPow3[n]) * d;
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 16; ++m) *y++ = trit(b[32 + m], kPow3[n]) * d;
  for (int n = 0; n < 4; ++n)
    for (int m = 0; m < 4; ++m) *y++ = trit(b[48 + m], kPow3[n]) * d;
}

// TQ2_0: 64 bytes of 2-bit q, f16 d; element 128 * h + 32 * l + m is bits
// 2l of byte 32h + m; x = (q - 1) * d.
void tq2_0(const uint8_t* b, float* y) {
  float d = f16_at(b + 64);
  for (int e = 0; e < 256; ++e) y[e] = static_cast<float>(crumb(b, e) - 1) * d;
}

// Half of an E8M0 exponent (2^(e - 128)), as ggml's MXFP4 decoder scales it.
float e8m0_half(uint8_t e) { return bits_to_float(e < 2 ? 0x00200000u << e : static_cast<uint32_t>(e - 1) << 23); }

// MXFP4: E8M0 exponent, 16 bytes of nibbles (as Q4_0) indexing doubled E2M1 values; x = v * d.
void mxfp4(const uint8_t* b, float* y) {
  float d = e8m0_half(b[0]);
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>(kFp4Values[b[1 + j] & 0x0F]) * d;
    y[j + 16] = static_cast<float>(kFp4Values[b[1 + j] >> 4]) * d;
  }
}

// Half of an unsigned E4M3 scale (bias 7; 0x00 and 0x7F read as zero, bit 7 ignored).
float ue4m3_half(uint8_t x) {
  if (x == 0 || x == 0x7F) return 0.0f;
  int exp = (x >> 3) & 0x0F, man = x & 7;
  float raw = exp == 0 ? std::ldexp(static_cast<float>(man), -9)
                       : std::ldexp(1.0f + static_cast<float>(man) / 8.0f, exp - 7);
  return raw * 0.5f;
}

// NVFP4: 4 UE4M3 scales (one per 16 elements), 32 bytes of nibbles (8 per
// 16 elements, laid out as Q4_0) indexing doubled E2M1 values; x = v * d.
void nvfp4(const uint8_t* b, float* y) {
  for (int s = 0; s < 4; ++s) {
    float d = ue4m3_half(b[s]);
    const uint8_t* qs = b + 4 + 8 * s;
    for (int j = 0; j < 8; ++j) {
      y[16 * s + j] = static_cast<float>(kFp4Values[qs[j] & 0x0F]) * d;
      y[16 * s + j + 8] = static_cast<float>(kFp4Values[qs[j] >> 4]) * d;
    }
  }
}

// The grid levels of row `index` of `g` as floats (index < g.size by the callers' masks).
void grid_row(const LatticeGrid& g, unsigned index, float* out) {
  uint16_t w = g.rows[index];
  unsigned mask = (1u << g.bits) - 1;
  for (int i = 0; i < g.elems; ++i) out[i] = static_cast<float>(g.levels[(w >> (i * g.step)) & mask]);
}

// `n` elements db * level * sign, sign bit i of `signs` negating element i.
void signed_group(float db, const float* level, uint8_t signs, int n, float* y) {
  for (int i = 0; i < n; ++i) y[i] = db * level[i] * (((signs >> i) & 1) ? -1.0f : 1.0f);
}

// IQ2_XXS: f16 d, then per 32 elements two u32: four grid indices (bytes),
// and four 7-bit sign indices plus a 4-bit scale s; db = d * (0.5 + s) * 0.25.
void iq2_xxs(const uint8_t* b, float* y) {
  float d = f16_at(b), lv[8];
  for (int ib = 0; ib < 8; ++ib, y += 32) {
    uint32_t idx = le32(b + 2 + 8 * ib), aux = le32(b + 6 + 8 * ib);
    float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.25f;
    for (int l = 0; l < 4; ++l) {
      grid_row(kIq2xxsGrid, (idx >> (8 * l)) & 0xFF, lv);
      signed_group(db, lv, kKsigns[(aux >> (7 * l)) & 127], 8, y + 8 * l);
    }
  }
}

// IQ2_XS: f16 d, 32 u16 (9-bit grid index, 7-bit sign index), 8 bytes of
// two 4-bit scales (one per 16 elements); db = d * (0.5 + s) * 0.25.
void iq2_xs(const uint8_t* b, float* y) {
  float d = f16_at(b), lv[8];
  for (int g = 0; g < 32; ++g) {
    unsigned q = le16(b + 2 + 2 * g);
    float db = d * (0.5f + static_cast<float>((b[66 + g / 4] >> (4 * ((g / 2) % 2))) & 0x0F)) * 0.25f;
    grid_row(kIq2xsGrid, q & 511, lv);
    signed_group(db, lv, kKsigns[q >> 9], 8, y + 8 * g);
  }
}

// IQ2_S: f16 d, 32 low grid-index bytes, 32 sign bytes, 8 bytes of four 2-bit
// high index parts, 8 bytes of two 4-bit scales; db = d * (0.5 + s) * 0.25.
void iq2_s(const uint8_t* b, float* y) {
  float d = f16_at(b), lv[8];
  for (int g = 0; g < 32; ++g) {
    unsigned idx = b[2 + g] | (((b[66 + g / 4] >> (2 * (g % 4))) & 3u) << 8);
    float db = d * (0.5f + static_cast<float>((b[74 + g / 4] >> (4 * ((g / 2) % 2))) & 0x0F)) * 0.25f;
    grid_row(kIq2sGrid, idx, lv);
    signed_group(db, lv, b[34 + g], 8, y + 8 * g);
  }
}

// IQ3_XXS: f16 d, 64 grid-index bytes (4 elements each), then per 32
// elements a u32 of four 7-bit sign indices and a 4-bit scale s;
// db = d * (0.5 + s) * 0.5.
void iq3_xxs(const uint8_t* b, float* y) {
  float d = f16_at(b), lv[8];
  for (int ib = 0; ib < 8; ++ib, y += 32) {
    uint32_t aux = le32(b + 66 + 4 * ib);
    float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.5f;
    for (int l = 0; l < 4; ++l) {
      grid_row(kIq3xxsGrid, b[2 + 8 * ib + 2 * l], lv);
      grid_row(kIq3xxsGrid, b[3 + 8 * ib + 2 * l], lv + 4);
      signed_group(db, lv, kKsigns[(aux >> (7 * l)) & 127], 8, y + 8 * l);
    }
  }
}

// IQ3_S: f16 d, 64 low grid-index bytes, 8 bytes of high index bits (bit k
// of byte ib for index k of 32 elements ib), 32 sign bytes, 4 bytes of two
// 4-bit scales (one per 32 elements); db = d * (1 + 2 * s).
void iq3_s(const uint8_t* b, float* y) {
  float d = f16_at(b), lv[8];
  for (int ib = 0; ib < 8; ++ib, y += 32) {
    float db = d * static_cast<float>(1 + 2 * ((b[106 + ib / 2] >> (4 * (ib % 2))) & 0x0F));
    for (int l = 0; l < 4; ++l) {
      for (int h = 0; h < 2; ++h) {
        int k = 2 * l + h;
        grid_row(kIq3sGrid, b[2 + 8 * ib + k] | (((b[66 + ib] >> k) & 1u) << 8), lv + 4 * h);
      }
      signed_group(db, lv, b[74 + 4 * ib + l], 8, y + 8 * l);
    }
  }
}

// 8 elements dl * (level + delta) of IQ1 grid row `idx`.
void iq1_group(float dl, unsigned idx, float delta, float* y) {
  float lv[8];
  grid_row(kIq1sGrid, idx, lv);
  for (int j = 0; j < 8; ++j) y[j] = dl * (lv[j] + delta);
}

// IQ1_S: f16 d, 32 low grid-index bytes, then per 32 elements a u16 of four
// 3-bit high index parts, a 3-bit scale s and a delta sign bit (15);
// dl = d * (2s + 1), x = dl * (level + delta).
void iq1_s(const uint8_t* b, float* y) {
  float d = f16_at(b);
  for (int ib = 0; ib < 8; ++ib) {
    unsigned h = le16(b + 34 + 2 * ib);
    float dl = d * static_cast<float>(2 * ((h >> 12) & 7) + 1);
    float delta = (h & 0x8000) ? -kIq1Delta : kIq1Delta;
    for (int l = 0; l < 4; ++l, y += 8) iq1_group(dl, b[2 + 4 * ib + l] | (((h >> (3 * l)) & 7u) << 8), delta, y);
  }
}

// IQ1_M: 32 low grid-index bytes, 16 bytes of two nibbles (3-bit high index
// part, delta sign bit 3), four u16 holding 3-bit scales (two per 32
// elements) in bits 0-11 and the f16 d in their top nibbles;
// dl = d * (2s + 1) per 16 elements, x = dl * (level + delta).
void iq1_m(const uint8_t* b, float* y) {
  unsigned sc[4];
  for (int k = 0; k < 4; ++k) sc[k] = le16(b + 48 + 2 * k);
  float d = half_to_float(
      static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0xF0) | ((sc[2] >> 4) & 0xF00) | (sc[3] & 0xF000)));
  for (int ib = 0; ib < 8; ++ib) {
    for (int l = 0; l < 4; ++l, y += 8) {
      unsigned s = (sc[ib / 2] >> (6 * (ib % 2) + 3 * (l / 2))) & 7;
      unsigned h = (b[32 + 2 * ib + l / 2] >> (4 * (l % 2))) & 0x0F;
      float dl = d * static_cast<float>(2 * s + 1);
      iq1_group(dl, b[4 * ib + l] | ((h & 7u) << 8), (h & 8) ? -kIq1Delta : kIq1Delta, y);
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
    case DType::Q8_1: return q8_1;
    case DType::IQ2_XXS: return iq2_xxs;
    case DType::IQ2_XS: return iq2_xs;
    case DType::IQ2_S: return iq2_s;
    case DType::IQ3_XXS: return iq3_xxs;
    case DType::IQ3_S: return iq3_s;
    case DType::IQ1_S: return iq1_s;
    case DType::IQ1_M: return iq1_m;
    case DType::TQ1_0: return tq1_0;
    case DType::TQ2_0: return tq2_0;
    case DType::MXFP4: return mxfp4;
    case DType::NVFP4: return nvfp4;
    case DType::Q1_0: return q1_0;
    case DType::Q2_0: return q2_0;
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
  return "Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ2_XXS, IQ2_XS, IQ2_S, "
         "IQ3_XXS, IQ3_S, IQ1_S, IQ1_M, IQ4_NL, IQ4_XS, TQ1_0, TQ2_0, MXFP4, NVFP4, Q1_0, Q2_0";
}

}  // namespace pedigree
