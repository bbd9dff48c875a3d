/* clock.c: the monotonic clock every timing in frost reads (pass times,
 * compile stages, bench, epoch times). */
#include <time.h>

#include "ir.h"

double fr_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
