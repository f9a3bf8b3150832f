/*
 * nsbox native addon — layer: native. The system-call sequences behind the calls of nsbox.c.
 * No JavaScript and no N-API values here, so nothing depends on the calling thread beyond its
 * namespace: each returns 0 or an errno, and names the syscall (and path) that failed in *f.
 *
 * Namespace rule (research/node-feasibility.md): a thread that switched namespace switches
 * back before the function returns; if switching back fails the process aborts, because no
 * code may go on running in the wrong namespace.
 */
#ifndef NSBOX_NETNS_OPS_H
#define NSBOX_NETNS_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct failure {
  int err;
  const char *syscall;
  const char *path; /* NULL, or a string that outlives the failure */
};

/* A netlink socket to make inside the namespace: protocol < 0 for none. */
struct netlink_spec {
  int protocol;
  int rcvbuf;
};

struct netlink_made {
  int fd;
  uint32_t port_id;
};

/* Test hook: the next switch back fails (NSBOX_TEST_HOOKS=1 only). */
extern volatile bool test_fail_next_restore;

/* Enter the namespace behind ns_fd (-1: stay); *orig gets the fd to switch back with. On
 * failure returns the name of the syscall that failed (errno set), else NULL. */
const char *enter_netns(int ns_fd, int *orig);
/* Switch back to orig (from enter_netns) or abort the process; closes orig. */
void leave_netns(int orig);

/* New namespace on an O_EXCL file at path: unshare, an fd of it (*ns_fd), its bind mount,
 * an optional netlink socket made inside, and straight back. Nothing is left on failure
 * (short of an umount2 that fails while undoing; gc() reclaims such a file). */
int ops_create_netns(const char *path, const struct netlink_spec *nl, int *ns_fd,
                     struct netlink_made *sock, struct failure *f);

/* A bound netlink socket in the current namespace: CLOEXEC|NONBLOCK, extended ACKs and strict
 * dump checks on, the receive buffer raised (SO_RCVBUFFORCE, else SO_RCVBUF). */
int ops_netlink_socket(const struct netlink_spec *nl, struct netlink_made *out, struct failure *f);

/* Read up to max bytes of path (*n), or write len bytes of text to it, with the thread inside
 * the namespace behind ns_fd (-1: the current one). */
int ops_read_file_in(int ns_fd, const char *path, char *buf, size_t max, ssize_t *n, struct failure *f);
int ops_write_file_in(int ns_fd, const char *path, const char *text, size_t len, struct failure *f);

/* Detach the mount on path and remove the file: the errno of each step (0: it worked). */
void ops_destroy_netns(const char *path, int *umount_err, int *unlink_err);

#endif
