// Kernel bodies, compiled once per SIMD level by kernels.c with EK_SUFFIX / EK_TARGET / EK_MR /
// EK_NR set. Plain C with vector extensions; no intrinsics.
#define EK_CAT2(a, b) a##_##b
#define EK_CAT(a, b) EK_CAT2(a, b)
#define EK_FN(name) EK_CAT(name, EK_SUFFIX)

typedef float EK_CAT(vf, EK_SUFFIX) __attribute__((vector_size(64), aligned(4)));
typedef int32_t EK_CAT(vi, EK_SUFFIX) __attribute__((vector_size(64), aligned(4)));
#define VF EK_CAT(vf, EK_SUFFIX)
#define VI EK_CAT(vi, EK_SUFFIX)
#ifndef EK_FMA
#define EK_FMA(a, b, c) __builtin_elementwise_fma(a, b, c)
#endif

static inline __attribute__((always_inline)) EK_TARGET VF EK_FN(splat)(float x) {
  VF v = {x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
  return v;
}

static inline __attribute__((always_inline)) EK_TARGET VF EK_FN(load)(const float *p) {
  VF v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

static inline __attribute__((always_inline)) EK_TARGET void EK_FN(store)(float *p, VF v) { __builtin_memcpy(p, &v, sizeof v); }

// One register tile: rows [i, i+MR) × columns [j, j+16*NB) of C.
#define EK_TILE(MR_, NB_)                                                                 \
  do {                                                                                     \
    VF acc[MR_][NB_];                                                                      \
    for (int r = 0; r < MR_; r++)                                                          \
      for (int t = 0; t < NB_; t++) acc[r][t] = bias ? EK_FN(load)(bias + j + 16 * t) : EK_FN(splat)(0.0f); \
    const float *bp = b + j;                                                               \
    const float *ap = a + i * lda;                                                         \
    for (size_t p = 0; p < k; p++) {                                                       \
      VF bv[NB_];                                                                          \
      for (int t = 0; t < NB_; t++) bv[t] = EK_FN(load)(bp + p * ldb + 16 * t);            \
      for (int r = 0; r < MR_; r++) {                                                      \
        VF av = EK_FN(splat)(ap[r * lda + p]);                                             \
        for (int t = 0; t < NB_; t++) acc[r][t] = EK_FMA(av, bv[t], acc[r][t]); \
      }                                                                                    \
    }                                                                                      \
    for (int r = 0; r < MR_; r++)                                                          \
      for (int t = 0; t < NB_; t++) EK_FN(store)(c + (i + r) * ldc + j + 16 * t, acc[r][t]); \
  } while (0)

static EK_TARGET void EK_FN(gemm)(size_t m, size_t n, size_t k, const float *a, size_t lda,
                                  const float *b, size_t ldb, const float *bias, float *c,
                                  size_t ldc) {
  size_t npad = (n + 15) / 16 * 16;
  size_t j = 0;
  for (; j + 16 * EK_NB <= npad; j += 16 * EK_NB) {
    size_t i = 0;
    for (; i + EK_MR <= m; i += EK_MR) EK_TILE(EK_MR, EK_NB);
    for (; i < m; i++) EK_TILE(1, EK_NB);
  }
  for (; j < npad; j += 16) {
    size_t i = 0;
    for (; i + EK_MR <= m; i += EK_MR) EK_TILE(EK_MR, 1);
    for (; i < m; i++) EK_TILE(1, 1);
  }
}

// exp by range reduction x = n ln2 + r, |r| ≤ ln2/2, degree-6 polynomial, scale by 2^n.
static inline __attribute__((always_inline)) EK_TARGET VF EK_FN(vexp)(VF x) {
  x = __builtin_elementwise_max(x, EK_FN(splat)(-87.3f));
  x = __builtin_elementwise_min(x, EK_FN(splat)(88.7f));
  VF n = __builtin_elementwise_roundeven(x * EK_FN(splat)(1.44269504088896341f));
  VF r = EK_FMA(n, EK_FN(splat)(-0.693145751953125f), x);
  r = EK_FMA(n, EK_FN(splat)(-1.42860682030941723212e-6f), r);
  VF p = EK_FN(splat)(1.0f / 720.0f);
  p = EK_FMA(p, r, EK_FN(splat)(1.0f / 120.0f));
  p = EK_FMA(p, r, EK_FN(splat)(1.0f / 24.0f));
  p = EK_FMA(p, r, EK_FN(splat)(1.0f / 6.0f));
  p = EK_FMA(p, r, EK_FN(splat)(0.5f));
  p = EK_FMA(p, r, EK_FN(splat)(1.0f));
  p = EK_FMA(p, r, EK_FN(splat)(1.0f));
  VI ni = __builtin_convertvector(n, VI);
  VI bits = (ni + 127) << 23;
  VF scale;
  __builtin_memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

static inline __attribute__((always_inline)) EK_TARGET VF EK_FN(vsigmoid)(VF z) {
  return EK_FN(splat)(1.0f) / (EK_FN(splat)(1.0f) + EK_FN(vexp)(-z));
}

// The vector activations on whole blocks of 16 (n a multiple of 16). Every fused multiply-add
// is written out (EK_FMA) and the file is compiled with -ffp-contract=off, so the same rows
// give the same bits on every CPU: x86 AVX2/AVX-512 and aarch64 fuse exactly these, nothing
// else.
static inline __attribute__((always_inline)) EK_TARGET void EK_FN(activate_blocks)(int kind, float *z, float *deriv, size_t n) {
  size_t i = 0;
  switch (kind) {
  case EK_SILU:
    for (; i + 16 <= n; i += 16) {
      VF v = EK_FN(load)(z + i);
      VF s = EK_FN(vsigmoid)(v);
      VF y = v * s;
      if (deriv) EK_FN(store)(deriv + i, EK_FMA(y, EK_FN(splat)(1.0f) - s, s));
      EK_FN(store)(z + i, y);
    }
    break;
  case EK_TANH:
    for (; i + 16 <= n; i += 16) {
      VF v = EK_FN(load)(z + i);
      VF t = EK_FMA(EK_FN(splat)(2.0f), EK_FN(vsigmoid)(EK_FN(splat)(2.0f) * v), EK_FN(splat)(-1.0f));
      if (deriv) EK_FN(store)(deriv + i, EK_FMA(-t, t, EK_FN(splat)(1.0f)));
      EK_FN(store)(z + i, t);
    }
    break;
  case EK_RELU:
    for (; i + 16 <= n; i += 16) {
      VF v = EK_FN(load)(z + i);
      VF y = __builtin_elementwise_max(v, EK_FN(splat)(0.0f));
      if (deriv) {
        VI m = v > EK_FN(splat)(0.0f);
        VF d = __builtin_convertvector(-m, VF);
        EK_FN(store)(deriv + i, d);
      }
      EK_FN(store)(z + i, y);
    }
    break;
  default:
    break;
  }
}

// In place z ← act(z) (and act′ into deriv). SiLU, tanh and ReLU run the vector code, the last
// n mod 16 values on a zero-padded copy, so that no value goes through the C library (its
// expf/tanhf differ between glibc, musl and CPUs). Softplus and GELU (rare) are computed in
// double with Ember's own exp/log/erf (detmath.c), one value at a time.
static EK_TARGET void EK_FN(activate)(int kind, float *z, float *deriv, size_t n) {
  switch (kind) {
  case EK_IDENTITY:
    if (deriv)
      for (size_t i = 0; i < n; i++) deriv[i] = 1.0f;
    return;
  case EK_SOFTPLUS:
  case EK_GELU:
    for (size_t i = 0; i < n; i++) {
      float d;
      z[i] = ek_det_activation(kind, z[i], &d);
      if (deriv) deriv[i] = d;
    }
    return;
  case EK_SILU:
  case EK_TANH:
  case EK_RELU: {
    size_t full = n / 16 * 16;
    EK_FN(activate_blocks)(kind, z, deriv, full);
    if (full < n) {
      float tz[16] = {0}, td[16];
      __builtin_memcpy(tz, z + full, (n - full) * sizeof(float));
      EK_FN(activate_blocks)(kind, tz, deriv ? td : 0, 16);
      __builtin_memcpy(z + full, tz, (n - full) * sizeof(float));
      if (deriv) __builtin_memcpy(deriv + full, td, (n - full) * sizeof(float));
    }
    return;
  }
  default:
    return;
  }
}

// e^x: the vector polynomial for every value, the last n mod 16 on a zero-padded copy.
static EK_TARGET void EK_FN(exp)(const float *x, float *out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) EK_FN(store)(out + i, EK_FN(vexp)(EK_FN(load)(x + i)));
  if (i < n) {
    float t[16] = {0};
    __builtin_memcpy(t, x + i, (n - i) * sizeof(float));
    VF r = EK_FN(vexp)(EK_FN(load)(t));
    EK_FN(store)(t, r);
    __builtin_memcpy(out + i, t, (n - i) * sizeof(float));
  }
}

static EK_TARGET void EK_FN(gemv_rows)(size_t m, size_t k, const float *a, size_t lda,
                                       const float *w, float bias, float *out) {
  for (size_t i = 0; i < m; i++) {
    const float *row = a + i * lda;
    VF acc = EK_FN(splat)(0.0f);
    size_t p = 0;
    for (; p + 16 <= k; p += 16)
      acc = EK_FMA(EK_FN(load)(row + p), EK_FN(load)(w + p), acc);
    float s = 0;
    for (int t = 0; t < 16; t++) s += acc[t];
    for (; p < k; p++) s = fmaf(row[p], w[p], s);
    out[i] = s + bias;
  }
}

static EK_TARGET void EK_FN(mul)(float *x, const float *y, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) EK_FN(store)(x + i, EK_FN(load)(x + i) * EK_FN(load)(y + i));
  for (; i < n; i++) x[i] *= y[i];
}

#undef VF
#undef VI
#undef EK_FMA
