/* wire.c: a small, bounds-checked reader of the protobuf wire format, for
 * what protobuf-c does not do for us:
 *
 *   - the messages of onnx-data.proto (SequenceProto, OptionalProto), which
 *     value_pb.c decodes field by field;
 *   - a depth check before protobuf-c unpacks a file. protobuf-c's unpacker
 *     calls itself once per level of message nesting, with no limit, so a
 *     hostile file nesting messages a million deep (two bytes a level) would
 *     overflow the stack. fr_pb_check_depth walks the same bytes without
 *     recursion, guided by the generated descriptors, and refuses deeper
 *     nesting before protobuf-c sees it.
 *
 * Also the ProtobufCAllocator that routes protobuf-c's allocations through
 * fr_malloc, so they count against the memory cap. */
#include <protobuf-c/protobuf-c.h>

#include "onnx.h"

static fr_status bad(const char *what) {
  return fr_err(FR_ERR_PARSE, "malformed protobuf: %s", what);
}

fr_status fr_wire_varint(fr_wire *w, uint64_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (w->p >= w->end) return bad("truncated varint");
    uint8_t b = *w->p++;
    if (shift == 63 && (b & 0x7e)) return bad("varint overflows 64 bits");
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return FR_OK;
    }
  }
  return bad("varint longer than 10 bytes");
}

fr_status fr_wire_next(fr_wire *w, fr_wire_field *f) {
  uint64_t key;
  FR_TRY(fr_wire_varint(w, &key));
  if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff) return bad("field number");
  f->num = (uint32_t)(key >> 3);
  f->type = (int)(key & 7);
  f->v = 0;
  f->sub.p = f->sub.end = NULL;
  switch (f->type) {
  case 0: return fr_wire_varint(w, &f->v);
  case 1:
    if (w->end - w->p < 8) return bad("truncated fixed64");
    w->p += 8;
    return FR_OK;
  case 5:
    if (w->end - w->p < 4) return bad("truncated fixed32");
    w->p += 4;
    return FR_OK;
  case 2: {
    uint64_t len;
    FR_TRY(fr_wire_varint(w, &len));
    if (len > (uint64_t)(w->end - w->p)) return bad("length past the end");
    f->sub.p = w->p;
    f->sub.end = w->p + len;
    w->p += len;
    return FR_OK;
  }
  default: return bad("unsupported wire type (groups)");
  }
}

fr_status fr_pb_check_depth(const struct ProtobufCMessageDescriptor *d,
                            const uint8_t *buf, size_t len, int max_depth) {
  /* One entry per open message: its descriptor and where its bytes end. */
  struct level {
    const ProtobufCMessageDescriptor *d;
    const uint8_t *end;
  } stack[FR_PB_MAX_DEPTH + 1];
  if (max_depth > FR_PB_MAX_DEPTH) max_depth = FR_PB_MAX_DEPTH;
  int top = 0;
  stack[0].d = d;
  stack[0].end = buf + len;
  fr_wire w = {buf, buf + len};
  for (;;) {
    while (top > 0 && w.p == stack[top].end) top--;
    if (w.p == stack[0].end) return FR_OK;
    w.end = stack[top].end;
    fr_wire_field f = {0};
    FR_TRY(fr_wire_next(&w, &f));
    if (f.type != 2) continue;
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field(stack[top].d, f.num);
    if (!fd || fd->type != PROTOBUF_C_TYPE_MESSAGE) continue;
    if (top == max_depth)
      return fr_err(FR_ERR_UNSUPPORTED,
                    "protobuf messages nested deeper than %d levels "
                    "(subgraphs or types nested too deeply)",
                    max_depth);
    /* Step into the sub-message: its fields are read next. */
    w.p = f.sub.p;
    top++;
    stack[top].d = fd->descriptor;
    stack[top].end = f.sub.end;
  }
}

static unsigned long alloc_failures;

static void *pb_alloc(void *data, size_t size) {
  (void)data;
  void *p = fr_malloc(size);
  if (!p) alloc_failures++;
  return p;
}

static void pb_free(void *data, void *p) {
  (void)data;
  fr_free(p);
}

static ProtobufCAllocator allocator = {pb_alloc, pb_free, NULL};

struct ProtobufCAllocator *fr_pb_allocator(void) { return &allocator; }

unsigned long fr_pb_alloc_failures(void) { return alloc_failures; }
