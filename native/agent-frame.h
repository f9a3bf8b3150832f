/*
 * agent-frame — layer: native. The nsbox agent's frames (src/agent/protocol.ts is the other
 * end) for its two native clients, nsbox-cni (native/cni-shim.c) and nsbox-handoff
 * (native/handoff-client.c), and the one other thing both need: where they are installed. All
 * integers u32 big-endian:
 *
 *   request: "NSBA" 1 COUNT, then COUNT fields (LENGTH BYTES): kind, stdin, "KEY=VALUE"…
 *   reply:   "NSBA" STATUS(0 served, 1 declined) EXITCODE, then two fields: stdout, stderr
 */
#ifndef NSBOX_AGENT_FRAME_H
#define NSBOX_AGENT_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum { AGENT_PROTOCOL_VERSION = 1, AGENT_STATUS_SERVED = 0, AGENT_STATUS_DECLINED = 1 };
/* No field of a reply may be larger. */
enum { AGENT_MAX_FIELD = 64 << 20 };

/* A growable byte buffer; out of memory ends the process (after `oom_prefix: out of memory`). */
struct buf {
  char *data;
  size_t len, cap;
};

extern const char *oom_prefix;

void buf_reserve(struct buf *b, size_t more);
void buf_put(struct buf *b, const void *p, size_t n);
void buf_u32(struct buf *b, uint32_t v);
void buf_field(struct buf *b, const void *p, size_t n);
/* A request's header: magic, version, `fields` (kind, stdin and the KEY=VALUE fields to follow). */
void frame_request_head(struct buf *b, uint32_t fields);

/* Read fd to its end into b; -1 with errno on error. */
int read_all(int fd, struct buf *b);
/* Write all of p; -1 with errno on error. */
int write_all(int fd, const char *p, size_t n);

struct agent_reply {
  uint32_t status, exit_code;
  const char *out, *err; /* point into the buffer parsed */
  size_t out_len, err_len;
  size_t frame_len; /* bytes the whole frame took */
};

/* The reply at the start of b: 1 when whole, 0 while more bytes are needed, -1 when it can never be one. */
int frame_parse_reply(const struct buf *b, struct agent_reply *r);
/* Read from fd until b holds a whole reply: 1 with it in r, 0 when the peer closed first, -1 on error/garbage. */
int frame_read_reply(int fd, struct buf *b, struct agent_reply *r);

/* Connected to the unix stream socket at path (close-on-exec), or -1 with errno. */
int connect_unix(const char *path);

/* The directory of this program's real path (PACKAGE/build/Release for both clients, which find
 * their package's scripts from it); -1 when /proc/self/exe cannot be read or `out` is too small. */
int exe_dir(char *out, size_t size);

#endif
