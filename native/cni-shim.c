/*
 * nsbox-cni (the shim) — layer: native. A separate executable, built by binding.gyp next to
 * the addon (build/Release/nsbox-cni); never loaded by Node. It is the CNI plugin binary a
 * runtime execs (`nsbox cni install` puts it in a CNI bin directory, docs/cni.md):
 *
 *   1. it connects to the nsbox agent's unix socket: NSBOX_AGENT_SOCKET, else
 *      ${NSBOX_ROOT:-/var/lib/nsbox}/agent.sock;
 *   2. no agent there (no socket, a stale one, refused, not permitted): it execs the
 *      in-process plugin, `node PACKAGE/bin/nsbox-cni.js`, with the same environment (less
 *      NODE_OPTIONS and NODE_EXTRA_CA_CERTS, which cost Node's start and mean nothing to
 *      the plugin) and the stdin it has not touched;
 *   3. else it reads all of stdin, sends the request (kind "cni", stdin, the whole
 *      environment) and writes the reply's stdout and stderr, exiting with its code.
 *
 * If the agent declines the call (it serves another state root, or is stopping), the shim
 * falls back as in 2, with the stdin it read replayed from a memfd. If the connection breaks
 * before a whole reply, an ADD is answered with CNI error 11 (try again: the agent may have
 * done part of it, and the runtime's DEL cleans up), and any other command (DEL, CHECK,
 * STATUS, GC, VERSION: all safe to repeat) falls back.
 *
 * The frames are native/agent-frame.h's (src/agent/protocol.ts is the other end).
 *
 * The package is found from the shim's real path (build/Release/nsbox-cni -> ../../), else
 * from the path compiled in (NSBOX_PACKAGE_DIR, the package's directory when it was built):
 * so a symlink into /opt/cni/bin and a copy both work. Node is NSBOX_NODE (the node that
 * built it) when it is executable there, else `node` from PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent-frame.h"

#ifndef NSBOX_PACKAGE_DIR
#define NSBOX_PACKAGE_DIR ""
#endif
#ifndef NSBOX_NODE
#define NSBOX_NODE "node"
#endif

extern char **environ;

enum { CNI_ERR_TRY_AGAIN = 11 };

const char *oom_prefix = "nsbox-cni";

static void warn(const char *what, int err) {
  fprintf(stderr, "nsbox-cni: %s: %s\n", what, strerror(err));
}

/* The package directory: from our real path (PACKAGE/build/Release/nsbox-cni), else compiled in. */
static int package_script(char *out, size_t size) {
  char dir[PATH_MAX];
  if (exe_dir(dir, sizeof dir) == 0 && (size_t)snprintf(out, size, "%s/../../bin/nsbox-cni.js", dir) < size && access(out, R_OK) == 0) return 0;
  if (NSBOX_PACKAGE_DIR[0] != '\0' && (size_t)snprintf(out, size, "%s/bin/nsbox-cni.js", NSBOX_PACKAGE_DIR) < size && access(out, R_OK) == 0) return 0;
  return -1;
}

/*
 * The in-process plugin in place of this process. `replay`, when not NULL, is the stdin
 * already read, given back to it through a memfd. Never returns.
 */
static void fallback(const struct buf *replay) {
  char script[PATH_MAX + 32];
  if (package_script(script, sizeof script) != 0) {
    fprintf(stderr, "nsbox-cni: no nsbox agent answered, and bin/nsbox-cni.js was found neither beside this program nor in %s\n",
            NSBOX_PACKAGE_DIR[0] ? NSBOX_PACKAGE_DIR : "(no compiled-in package directory)");
    _exit(1);
  }
  if (replay != NULL) {
    int fd = memfd_create("nsbox-cni-stdin", 0);
    if (fd < 0 || write_all(fd, replay->data, replay->len) != 0 || lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, 0) < 0) {
      warn("replaying stdin to the in-process plugin", errno);
      _exit(1);
    }
    if (fd != 0) close(fd);
  }
  unsetenv("NODE_OPTIONS");
  unsetenv("NODE_EXTRA_CA_CERTS");
  char *argv[] = {(char *)"node", script, NULL};
  if (NSBOX_NODE[0] == '/' && access(NSBOX_NODE, X_OK) == 0) execv(NSBOX_NODE, argv);
  execvp("node", argv);
  warn("exec node (the in-process plugin)", errno);
  _exit(1);
}

/* The config's cniVersion for an error object, if it looks like one ("1.0.0"), else 1.1.0. */
static void cni_version_of(const struct buf *in, char *out, size_t size) {
  snprintf(out, size, "1.1.0");
  static const char key[] = "\"cniVersion\"";
  const char *end = in->data + in->len;
  const char *p = in->data ? memmem(in->data, in->len, key, sizeof key - 1) : NULL;
  if (p == NULL) return;
  p += sizeof key - 1;
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':')) p++;
  if (p >= end || *p++ != '"') return;
  size_t n = 0;
  while (p + n < end && n + 1 < size && ((p[n] >= '0' && p[n] <= '9') || p[n] == '.')) n++;
  if (n == 0 || p + n >= end || p[n] != '"') return;
  memcpy(out, p, n);
  out[n] = '\0';
}

/* The agent broke off: an ADD answers error 11 (part of it may be done), anything else falls back. */
static void broken(const struct buf *in, const char *what) {
  const char *command = getenv("CNI_COMMAND");
  if (command == NULL || strcmp(command, "ADD") != 0) fallback(in);
  char version[16];
  cni_version_of(in, version, sizeof version);
  printf("{\"cniVersion\":\"%s\",\"code\":%d,\"msg\":\"the nsbox agent broke off the call\",\"details\":\"%s; run DEL, then ADD again\"}\n",
         version, CNI_ERR_TRY_AGAIN, what);
  fflush(stdout);
  _exit(1);
}

/* Connect to the agent's socket; -1 when no agent answers there. */
static int connect_agent(void) {
  const char *path = getenv("NSBOX_AGENT_SOCKET");
  char fallback_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  if (path == NULL || path[0] == '\0') {
    const char *root = getenv("NSBOX_ROOT");
    if (root == NULL || root[0] == '\0') root = "/var/lib/nsbox";
    if ((size_t)snprintf(fallback_path, sizeof fallback_path, "%s/agent.sock", root) >= sizeof fallback_path) return -1;
    path = fallback_path;
  }
  return connect_unix(path);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* a dead agent is EPIPE from write, handled below */
  int sock = connect_agent();
  if (sock < 0) fallback(NULL);

  struct buf in = {0};
  if (!isatty(0) && read_all(0, &in) != 0) {
    warn("reading stdin", errno);
    return 1;
  }
  size_t count = 0;
  for (char **e = environ; *e != NULL; e++) count++;
  struct buf req = {0};
  frame_request_head(&req, (uint32_t)(count + 2));
  buf_field(&req, "cni", 3);
  buf_field(&req, in.data, in.len);
  for (char **e = environ; *e != NULL; e++) buf_field(&req, *e, strlen(*e));
  if (write_all(sock, req.data, req.len) != 0) broken(&in, "sending the request failed");
  shutdown(sock, SHUT_WR);

  struct buf rep = {0};
  if (read_all(sock, &rep) != 0) broken(&in, "reading the reply failed");
  close(sock);
  struct agent_reply r;
  int whole = frame_parse_reply(&rep, &r);
  if (whole < 0) broken(&in, "the reply is not an nsbox agent's");
  if (whole == 0) broken(&in, "the reply was cut short");
  if (r.status == AGENT_STATUS_DECLINED) {
    fprintf(stderr, "nsbox-cni: the agent declined (%.*s); running in-process\n", (int)r.err_len, r.err);
    fallback(&in);
  }
  if (write_all(1, r.out, r.out_len) != 0) return 1;
  (void)write_all(2, r.err, r.err_len);
  uint32_t code = r.exit_code;
  return code > 255 ? 1 : (int)code;
}
