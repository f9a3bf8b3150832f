/*
 * nsbox native addon — layer: native. See netns-ops.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <node_api.h>

#include "netns-ops.h"

volatile bool test_fail_next_restore = false;

static const char THREAD_NETNS[] = "/proc/thread-self/ns/net";

static int fail(struct failure *f, int err, const char *syscall, const char *path) {
  f->err = err;
  f->syscall = syscall;
  f->path = path;
  return err;
}

/* Switch the calling thread back to `orig` or abort the process. */
static void restore_netns_or_abort(int orig) {
  int rc = test_fail_next_restore ? (errno = EBADF, -1) : setns(orig, CLONE_NEWNET);
  test_fail_next_restore = false;
  if (rc != 0) {
    napi_fatal_error("nsbox", NAPI_AUTO_LENGTH,
                     "setns back to the original network namespace failed; the thread "
                     "would run in the wrong namespace, so the process stops here",
                     NAPI_AUTO_LENGTH);
  }
  close(orig);
}

const char *enter_netns(int ns_fd, int *orig) {
  *orig = -1;
  if (ns_fd < 0) return NULL;
  *orig = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
  if (*orig < 0) return "open /proc/thread-self/ns/net";
  if (setns(ns_fd, CLONE_NEWNET) != 0) {
    int err = errno;
    close(*orig);
    *orig = -1;
    errno = err;
    return "setns";
  }
  return NULL;
}

void leave_netns(int orig) {
  if (orig >= 0) restore_netns_or_abort(orig);
}

int ops_netlink_socket(const struct netlink_spec *nl, struct netlink_made *out, struct failure *f) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, nl->protocol);
  if (fd < 0) return fail(f, errno, "socket", NULL);
  const char *syscall = NULL;
  int one = 1, rcvbuf = nl->rcvbuf;
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  socklen_t sa_len = sizeof sa;
  if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one) != 0 ||
      setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one) != 0) {
    syscall = "setsockopt";
  } else if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0 &&
             (errno != EPERM || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0)) {
    syscall = "setsockopt";
  } else if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    syscall = "bind";
  } else if (getsockname(fd, (struct sockaddr *)&sa, &sa_len) != 0) {
    syscall = "getsockname";
  }
  if (syscall != NULL) {
    int err = errno;
    close(fd);
    return fail(f, err, syscall, NULL);
  }
  out->fd = fd;
  out->port_id = sa.nl_pid;
  return 0;
}

int ops_create_netns(const char *path, const struct netlink_spec *nl, int *ns_fd,
                     struct netlink_made *sock, struct failure *f) {
  *ns_fd = -1;
  sock->fd = -1;
  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) return fail(f, errno, "open", path);
  close(fd);

  int orig = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
  if (orig < 0) {
    fail(f, errno, "open", THREAD_NETNS);
    unlink(path);
    return f->err;
  }
  if (unshare(CLONE_NEWNET) != 0) {
    fail(f, errno, "unshare", path);
    close(orig);
    unlink(path);
    return f->err;
  }
  f->err = 0;
  *ns_fd = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
  if (*ns_fd < 0) {
    fail(f, errno, "open", path);
  } else if (mount(THREAD_NETNS, path, "none", MS_BIND, NULL) != 0) {
    fail(f, errno, "mount", path);
  } else if (nl != NULL && nl->protocol >= 0 && ops_netlink_socket(nl, sock, f) != 0) {
    (void)umount2(path, MNT_DETACH); /* if this fails, unlink below does too: gc() reclaims the file */
  }
  restore_netns_or_abort(orig); /* closes orig */
  if (f->err != 0) {
    if (*ns_fd >= 0) close(*ns_fd);
    *ns_fd = -1;
    unlink(path);
  }
  return f->err;
}

int ops_read_file_in(int ns_fd, const char *path, char *buf, size_t max, ssize_t *n, struct failure *f) {
  int orig;
  const char *failed = enter_netns(ns_fd, &orig);
  if (failed != NULL) return fail(f, errno, failed, NULL);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  const char *syscall = "open";
  *n = -1;
  if (fd >= 0) {
    syscall = "read";
    do {
      *n = read(fd, buf, max);
    } while (*n < 0 && errno == EINTR);
  }
  int err = errno;
  if (fd >= 0) close(fd);
  leave_netns(orig);
  return *n < 0 ? fail(f, err, syscall, path) : 0;
}

int ops_write_file_in(int ns_fd, const char *path, const char *text, size_t len, struct failure *f) {
  int orig;
  const char *failed = enter_netns(ns_fd, &orig);
  if (failed != NULL) return fail(f, errno, failed, NULL);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  const char *syscall = "open";
  ssize_t n = -1;
  if (fd >= 0) {
    syscall = "write";
    do {
      n = write(fd, text, len);
    } while (n < 0 && errno == EINTR);
  }
  int err = errno;
  if (fd >= 0) close(fd);
  leave_netns(orig);
  if (n < 0) return fail(f, err, syscall, path);
  if ((size_t)n != len) return fail(f, EIO, "write", path);
  return 0;
}

void ops_destroy_netns(const char *path, int *umount_err, int *unlink_err) {
  *umount_err = umount2(path, MNT_DETACH) == 0 ? 0 : errno;
  *unlink_err = unlink(path) == 0 ? 0 : errno;
}
