/*
 * agent-frame — layer: native. The agent's frames for the native clients (agent-frame.h).
 */
#include "agent-frame.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char MAGIC[4] = {'N', 'S', 'B', 'A'};

static void die_oom(void) {
  (void)!write(2, oom_prefix, strlen(oom_prefix));
  static const char msg[] = ": out of memory\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(1);
}

void buf_reserve(struct buf *b, size_t more) {
  if (b->cap - b->len >= more) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap - b->len < more) {
    if (cap > SIZE_MAX / 2) die_oom();
    cap *= 2;
  }
  char *data = realloc(b->data, cap);
  if (data == NULL) die_oom();
  b->data = data;
  b->cap = cap;
}

void buf_put(struct buf *b, const void *p, size_t n) {
  buf_reserve(b, n);
  if (n > 0) memcpy(b->data + b->len, p, n);
  b->len += n;
}

void buf_u32(struct buf *b, uint32_t v) {
  unsigned char be[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
  buf_put(b, be, 4);
}

void buf_field(struct buf *b, const void *p, size_t n) {
  buf_u32(b, (uint32_t)n);
  buf_put(b, p, n);
}

void frame_request_head(struct buf *b, uint32_t fields) {
  buf_put(b, MAGIC, 4);
  buf_u32(b, AGENT_PROTOCOL_VERSION);
  buf_u32(b, fields);
}

/* One read into b (room for `want` more bytes made first): >0 bytes read, 0 at the end, -1 with errno. */
static ssize_t read_some(int fd, struct buf *b, size_t want) {
  buf_reserve(b, want);
  for (;;) {
    ssize_t n = read(fd, b->data + b->len, b->cap - b->len);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) b->len += (size_t)n;
    return n;
  }
}

int read_all(int fd, struct buf *b) {
  for (;;) {
    ssize_t n = read_some(fd, b, 65536);
    if (n <= 0) return (int)n;
  }
}

int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static uint32_t get_u32(const char *p) {
  const unsigned char *u = (const unsigned char *)p;
  return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | (uint32_t)u[3];
}

int frame_parse_reply(const struct buf *b, struct agent_reply *r) {
  size_t have = b->len < 4 ? b->len : 4;
  if (have > 0 && memcmp(b->data, MAGIC, have) != 0) return -1;
  if (b->len < 12) return 0;
  r->status = get_u32(b->data + 4);
  r->exit_code = get_u32(b->data + 8);
  if (r->status != AGENT_STATUS_SERVED && r->status != AGENT_STATUS_DECLINED) return -1;
  size_t off = 12;
  const char *field[2];
  size_t len[2];
  for (int i = 0; i < 2; i++) {
    if (b->len - off < 4) return 0;
    len[i] = get_u32(b->data + off);
    off += 4;
    if (len[i] > AGENT_MAX_FIELD) return -1;
    if (b->len - off < len[i]) return 0;
    field[i] = b->data + off;
    off += len[i];
  }
  r->out = field[0];
  r->out_len = len[0];
  r->err = field[1];
  r->err_len = len[1];
  r->frame_len = off;
  return 1;
}

int frame_read_reply(int fd, struct buf *b, struct agent_reply *r) {
  for (;;) {
    int whole = frame_parse_reply(b, r);
    if (whole != 0) return whole;
    ssize_t n = read_some(fd, b, 4096);
    if (n <= 0) return n == 0 ? 0 : -1;
  }
}

int connect_unix(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int rc;
  do rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

int exe_dir(char *out, size_t size) {
  char self[PATH_MAX];
  if (realpath("/proc/self/exe", self) == NULL) return -1;
  char *slash = strrchr(self, '/');
  if (slash == NULL) return -1;
  *slash = '\0';
  return (size_t)snprintf(out, size, "%s", self) < size ? 0 : -1;
}
