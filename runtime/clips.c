/* clips.c: audio clips as training samples (runtime.h), for frost train
 * and artifacts alike: each clip through a front end (a callback: the JIT,
 * the interpreter, or the artifact's compiled front end) into frames, the
 * frames cut into windows shaped as the model's samples, and, after the
 * frozen backbone, the windows' features pooled back into one sample per
 * clip. */
#include <string.h>

#include "runtime.h"

fr_status fr_clip_frames(fr_frontend_fn f, void *ctx, float *in, const float *x,
                         int64_t L, float A, float B, float **frames, int64_t *T,
                         int64_t *F) {
  /* PCM16 units in, as openWakeWord feeds its melspectrogram */
  for (int64_t i = 0; i < L; i++) in[i] = x[i] * 32768.0f;
  const float *out = NULL;
  int64_t n = 0, last = 0;
  FR_TRY(f(ctx, in, &out, &n, &last));
  if (last <= 0 || n % last)
    return fr_err(FR_ERR_SHAPE, "the front end's output is not float frames");
  *F = last;
  *T = n / last;
  *frames = fr_malloc(sizeof(float) * (size_t)(n + 1));
  if (!*frames) return fr_err_nomem(NULL);
  for (int64_t i = 0; i < n; i++) (*frames)[i] = out[i] * A + B;
  return FR_OK;
}

fr_status fr_clips_to_windows(fr_dataset *d, fr_frontend_fn f, void *ctx,
                              float *in, const fr_window_opts *o, int **group,
                              int *clips) {
  float *all = NULL;
  int *grp = NULL;
  int64_t n_win = 0, cap = 0, wsize = 0, F0 = -1;
  fr_status st = FR_OK;
  for (int c = 0; c < d->n && st == FR_OK; c++) {
    float *fr = NULL;
    int64_t T = 0, F = 0;
    st = fr_clip_frames(f, ctx, in, d->x + (int64_t)c * d->numel, d->numel,
                        o->scale[0], o->scale[1], &fr, &T, &F);
    if (st != FR_OK) break;
    if (F0 < 0) F0 = F;
    int64_t N = o->window ? o->window : T, H = o->hop ? o->hop : N;
    wsize = N * F;
    int64_t k = T < N ? 1 : (T - N) / H + 1;
    if (n_win + k > cap) {
      cap = 2 * (n_win + k) + 16;
      float *na = fr_realloc(all, sizeof(float) * (size_t)(cap * wsize));
      int *ng = fr_realloc(grp, sizeof(int) * (size_t)cap);
      if (na) all = na;
      if (ng) grp = ng;
      if (!na || !ng) st = fr_err_nomem(NULL);
    }
    for (int64_t w = 0; w < k && st == FR_OK; w++) {
      float *dst = all + n_win * wsize;
      memset(dst, 0, sizeof(float) * (size_t)wsize);
      int64_t start = w * H, len = T - start < N ? T - start : N;
      memcpy(dst, fr + start * F, sizeof(float) * (size_t)(len * F));
      grp[n_win++] = c;
    }
    fr_free(fr);
  }
  if (st == FR_OK && wsize != o->numel)
    st = fr_err(FR_ERR_SHAPE, "windows of %lld values (%lld frames of %lld) "
                "do not fit the model's input of %lld values per sample "
                "(see --window)", (long long)wsize,
                (long long)(F0 > 0 ? wsize / F0 : 0), (long long)F0,
                (long long)o->numel);
  /* each window takes its clip's labels */
  if (st == FR_OK) st = fr_dataset_relabel(d, grp, (int)n_win);
  if (st != FR_OK) {
    fr_free(all), fr_free(grp);
    return st;
  }
  fr_free(d->x);
  d->x = all;
  *clips = d->n;
  d->n = (int)n_win;
  d->numel = wsize;
  d->rank = o->rank;
  memcpy(d->dims, o->dims, sizeof d->dims);
  d->paths = NULL;
  if (group) *group = grp;
  else fr_free(grp);
  return FR_OK;
}

fr_status fr_pool_windows(fr_dataset *d, const int *group, int clips, int mode) {
  int64_t F = d->numel;
  float *pf = fr_calloc((size_t)(clips * F + 1), sizeof(float));
  int *first = fr_calloc((size_t)clips + 1, sizeof(int)); /* a window of each clip */
  int *cnt = fr_calloc((size_t)clips + 1, sizeof(int));
  if (!pf || !first || !cnt) {
    fr_free(pf), fr_free(first), fr_free(cnt);
    return fr_err_nomem(NULL);
  }
  for (int w = 0; w < d->n; w++) {
    int g = group[w];
    float *dst = pf + (int64_t)g * F;
    const float *src = d->x + (int64_t)w * F;
    for (int64_t f = 0; f < F; f++)
      dst[f] = mode == FR_POOL_MAX && cnt[g] ? (src[f] > dst[f] ? src[f] : dst[f])
               : mode == FR_POOL_MAX         ? src[f]
                                             : dst[f] + src[f];
    if (!cnt[g]++) first[g] = w;
  }
  if (mode == FR_POOL_MEAN)
    for (int g = 0; g < clips; g++)
      for (int64_t f = 0; f < F; f++) pf[(int64_t)g * F + f] /= (float)(cnt[g] ? cnt[g] : 1);
  /* each clip takes its windows' labels */
  fr_status st = fr_dataset_relabel(d, first, clips);
  fr_free(cnt);
  fr_free(first);
  if (st != FR_OK) {
    fr_free(pf);
    return st;
  }
  fr_free(d->x);
  d->x = pf;
  d->n = clips;
  return FR_OK;
}
