/*
 * nsbox native addon — layer: native (the bottom). Loaded only by src/sys/binding.ts.
 *
 * System calls and nothing else: no policy, no parsing. Arguments are validated in
 * TypeScript first; the checks here are a backstop. Every fd this file creates is
 * close-on-exec. Errors are thrown as objects built by the JS factory handed to init(),
 * so they are real SysError instances with a glibc errno name.
 *
 * Files: napi-helpers.c (arguments, SysError), netns-ops.c (the syscall sequences), and
 * this one: the calls JS makes, readiness polling and the module table.
 *
 * Namespace rules (research/node-feasibility.md):
 *   - createNetns / withNetns / socketIn / openNetlink / readFileIn / writeFileIn switch the
 *     calling thread and always switch back within the one native call (all but withNetns
 *     run no JS in between). If switching back fails, the process aborts: no JS may run on
 *     a thread in the wrong netns.
 *   - The libuv thread pool is started when the module loads, so no pool thread can be
 *     born inside a window.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "napi-helpers.h"
#include "netns-ops.h"

/* The new mount API (Linux 5.2); glibc's <sys/mount.h> may predate its constants. */
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 0x00000001
#endif
#ifndef FSCONFIG_CMD_CREATE
#define FSCONFIG_CMD_CREATE 6
#endif
#ifndef MOUNT_ATTR_NOSUID
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif

/* ---- namespaces -------------------------------------------------------------------- */

/* createNetns(path, netlinkProtocol, rcvbufBytes) -> [nsFd, netlinkFd, portId]: O_EXCL file;
 * unshare(CLONE_NEWNET), an fd to the new namespace and its bind mount on path, a bound netlink
 * socket made inside when netlinkProtocol >= 0 (else netlinkFd is -1), then straight back — all
 * inside this one call, so no JS ever runs in the new namespace; if switching back fails the
 * process aborts. The fds (close-on-exec) save the caller opening the file again and switching
 * in again for the socket. Measured here: ~220 µs per namespace, against ~480 µs for the same
 * work on a throwaway pthread (thread exit with a private nsproxy costs more than a setns back)
 * and ~370 µs as a thread-pool job (two cross-CPU wakeups). */
static napi_value js_create_netns(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char path[PATH_MAX_LEN];
  struct netlink_spec nl;
  if (!get_args(env, info, 3, argv) || !get_path(env, argv[0], path) ||
      !get_int(env, argv[1], &nl.protocol) || !get_int(env, argv[2], &nl.rcvbuf))
    return NULL;
  int ns_fd;
  struct netlink_made sock;
  struct failure f;
  if (ops_create_netns(path, &nl, &ns_fd, &sock, &f) != 0) return throw_errno(env, f.err, f.syscall, f.path);
  int64_t out[3] = {ns_fd, sock.fd, sock.fd >= 0 ? (int64_t)sock.port_id : 0};
  napi_value result = make_int_array(env, out, 3);
  if (result == NULL) { /* made, but it cannot be handed over: undo it rather than leak it */
    if (sock.fd >= 0) close(sock.fd);
    close(ns_fd);
    int umount_err, unlink_err;
    ops_destroy_netns(path, &umount_err, &unlink_err);
  }
  return result;
}

/* destroyNetns(path) -> [umountErrno, unlinkErrno]; 0 means success. Policy is in TS. */
static napi_value js_destroy_netns(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char path[PATH_MAX_LEN];
  if (!get_args(env, info, 1, argv) || !get_path(env, argv[0], path)) return NULL;
  int errs[2];
  ops_destroy_netns(path, &errs[0], &errs[1]);
  int64_t out[2] = {errs[0], errs[1]};
  return make_int_array(env, out, 2);
}

/* bindNetns(source, path): O_EXCL file at path, bind mount of source (e.g. /proc/PID/ns/net)
 * onto it; the file is removed again if the mount fails. `ip netns attach NAME PID`. */
static napi_value js_bind_netns(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char source[PATH_MAX_LEN], path[PATH_MAX_LEN];
  if (!get_args(env, info, 2, argv) || !get_path(env, argv[0], source) ||
      !get_path(env, argv[1], path))
    return NULL;
  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) return throw_errno(env, errno, "open", path);
  close(fd);
  if (mount(source, path, "none", MS_BIND, NULL) != 0) {
    int err = errno;
    unlink(path);
    return throw_errno(env, err, "mount", source);
  }
  return undefined(env);
}

/* openNetns(path) -> fd (O_RDONLY|O_CLOEXEC). */
static napi_value js_open_netns(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char path[PATH_MAX_LEN];
  if (!get_args(env, info, 1, argv) || !get_path(env, argv[0], path)) return NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open", path);
  return make_int(env, fd);
}

/* nsType(fd) -> CLONE_NEW* constant of the namespace behind fd (ioctl NS_GET_NSTYPE). */
static napi_value js_ns_type(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type < 0) return throw_errno(env, errno, "ioctl(NS_GET_NSTYPE)", NULL);
  return make_int(env, type);
}

/* fileIds(fd, path) -> [fdDev, fdIno, pathDev, pathIno], or null when either stat fails: is
 * the file at path still the one behind fd? (Node's fstatSync/statSync build two Stats
 * objects with Dates for this.) */
static napi_value js_file_ids(napi_env env, napi_callback_info info) {
  napi_value argv[2], out;
  int32_t fd;
  char path[PATH_MAX_LEN];
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd) || !get_path(env, argv[1], path))
    return NULL;
  struct stat a, b;
  if (fstat(fd, &a) != 0 || stat(path, &b) != 0) {
    napi_get_null(env, &out);
    return out;
  }
  int64_t ids[4] = {(int64_t)a.st_dev, (int64_t)a.st_ino, (int64_t)b.st_dev, (int64_t)b.st_ino};
  return make_int_array(env, ids, 4);
}

/* withNetns(fd, fn): run fn synchronously with this thread inside the netns behind fd. */
static napi_value js_with_netns(napi_env env, napi_callback_info info) {
  napi_value argv[2], global, result = NULL;
  int32_t fd;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd)) return NULL;
  if (fd < 0) return throw_errno(env, EBADF, "setns", NULL);
  int orig;
  const char *failed = enter_netns(fd, &orig);
  if (failed != NULL) return throw_errno(env, errno, failed, NULL);

  napi_get_global(env, &global);
  napi_status status = napi_call_function(env, global, argv[1], 0, NULL, &result);
  napi_value exception = NULL;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) napi_get_and_clear_last_exception(env, &exception);

  leave_netns(orig);

  if (exception != NULL) {
    napi_throw(env, exception);
    return NULL;
  }
  if (status != napi_ok) {
    napi_throw_error(env, "NSBOX_ERR_NAPI", "calling the window callback failed");
    return NULL;
  }
  return result;
}

/* flock(fd, operation) -> true, or false when LOCK_NB was given and the lock is held. */
static napi_value js_flock(napi_env env, napi_callback_info info) {
  napi_value argv[2], out;
  int32_t fd, op;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &op))
    return NULL;
  int rc;
  do {
    rc = flock(fd, op);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EWOULDBLOCK) return throw_errno(env, errno, "flock", NULL);
  napi_get_boolean(env, rc == 0, &out);
  return out;
}

/* testFailNextRestore(): test hook (only exported with NSBOX_TEST_HOOKS=1). */
static napi_value js_test_fail_next_restore(napi_env env, napi_callback_info info) {
  test_fail_next_restore = true;
  return undefined(env);
}

/* ---- sockets ----------------------------------------------------------------------- */

/* socketIn(nsFd | -1, domain, type, protocol) -> fd, always SOCK_CLOEXEC|SOCK_NONBLOCK. */
static napi_value js_socket_in(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t ns_fd, domain, type, protocol;
  if (!get_args(env, info, 4, argv) || !get_int(env, argv[0], &ns_fd) ||
      !get_int(env, argv[1], &domain) || !get_int(env, argv[2], &type) ||
      !get_int(env, argv[3], &protocol))
    return NULL;
  int orig;
  const char *failed = enter_netns(ns_fd, &orig);
  if (failed != NULL) return throw_errno(env, errno, failed, NULL);
  int fd = socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
  int err = errno;
  leave_netns(orig);
  if (fd < 0) return throw_errno(env, err, "socket", NULL);
  return make_int(env, fd);
}

/* openNetlink(nsFd | -1, protocol, rcvbufBytes) -> [fd, portId]: a bound netlink socket made in
 * the namespace, CLOEXEC|NONBLOCK, with extended ACKs and strict dump checks on and the
 * receive buffer raised (SO_RCVBUFFORCE, SO_RCVBUF without CAP_NET_ADMIN). One call instead of
 * seven: opening a socket per sandbox is on the hot path. */
static napi_value js_open_netlink(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t ns_fd;
  struct netlink_spec nl;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &ns_fd) ||
      !get_int(env, argv[1], &nl.protocol) || !get_int(env, argv[2], &nl.rcvbuf))
    return NULL;
  int orig;
  const char *failed = enter_netns(ns_fd, &orig);
  if (failed != NULL) return throw_errno(env, errno, failed, NULL);
  struct netlink_made sock;
  struct failure f;
  int err = ops_netlink_socket(&nl, &sock, &f);
  leave_netns(orig);
  if (err != 0) return throw_errno(env, f.err, f.syscall, f.path);
  int64_t out[2] = {sock.fd, sock.port_id};
  return make_int_array(env, out, 2);
}

/* readFileIn(nsFd | -1, path, maxBytes) -> string: read a small file (a /proc/sys knob, which
 * follows the namespace of the opening thread) from inside the namespace. */
static napi_value js_read_file_in(napi_env env, napi_callback_info info) {
  napi_value argv[3], out;
  int32_t ns_fd, max;
  char path[PATH_MAX_LEN], buf[4096];
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &ns_fd) ||
      !get_path(env, argv[1], path) || !get_int(env, argv[2], &max))
    return NULL;
  if (max < 0 || max > (int32_t)sizeof buf) max = sizeof buf;
  ssize_t n;
  struct failure f;
  if (ops_read_file_in(ns_fd, path, buf, (size_t)max, &n, &f) != 0) return throw_errno(env, f.err, f.syscall, f.path);
  NAPI_CALL(env, napi_create_string_utf8(env, buf, (size_t)n, &out));
  return out;
}

/* writeFileIn(nsFd | -1, path, text): write a /proc/sys knob from inside the namespace. */
static napi_value js_write_file_in(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t ns_fd;
  char path[PATH_MAX_LEN], text[4096];
  size_t len = 0;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &ns_fd) ||
      !get_path(env, argv[1], path))
    return NULL;
  if (!get_string(env, argv[2], text, sizeof text, &len, "expected a string under 4 KiB")) return NULL;
  struct failure f;
  if (ops_write_file_in(ns_fd, path, text, len, &f) != 0) return throw_errno(env, f.err, f.syscall, f.path);
  return undefined(env);
}

/* openProcfs() -> fd of a new, detached procfs mount (fsopen + fsmount, close-on-exec,
 * nosuid/nodev/noexec): a procfs with its own dentries, reached through /proc/self/fd/FD.
 * Refused with EROFS when /proc/sys is read-only (a fresh instance must not get around that),
 * and with EOPNOTSUPP when the new instance shares /proc's superblock (Linux < 5.8: no gain). */
static napi_value js_open_procfs(napi_env env, napi_callback_info info) {
#ifndef SYS_fsopen
  return throw_errno(env, ENOSYS, "fsopen(\"proc\")", NULL);
#else
  struct statvfs sys;
  if (statvfs("/proc/sys", &sys) == 0 && (sys.f_flag & ST_RDONLY))
    return throw_errno(env, EROFS, "statvfs", "/proc/sys");
  int fs = (int)syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC);
  if (fs < 0) return throw_errno(env, errno, "fsopen(\"proc\")", NULL);
  const char *syscall_name = NULL;
  int mnt = -1;
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) {
    syscall_name = "fsconfig(FSCONFIG_CMD_CREATE)";
  } else if ((mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                                 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)) < 0) {
    syscall_name = "fsmount";
  }
  int err = errno;
  close(fs);
  if (syscall_name != NULL) return throw_errno(env, err, syscall_name, NULL);
  struct stat ours, proc;
  if (fstat(mnt, &ours) == 0 && stat("/proc", &proc) == 0 && ours.st_dev == proc.st_dev) {
    close(mnt);
    return throw_errno(env, EOPNOTSUPP, "fsmount", "/proc");
  }
  return make_int(env, mnt);
#endif
}

/* bind(fd, sockaddrBytes). */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  void *addr;
  size_t len;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd) ||
      !get_bytes(env, argv[1], &addr, &len))
    return NULL;
  if (bind(fd, (const struct sockaddr *)addr, (socklen_t)len) != 0)
    return throw_errno(env, errno, "bind", NULL);
  return undefined(env);
}

/* sockName(fd, out) -> length: the socket's own address (getsockname) written into the
 * Uint8Array `out`; the length is the address's, which may exceed out's (then it is cut). */
static napi_value js_sock_name(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  void *out;
  size_t cap;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd) ||
      !get_bytes(env, argv[1], &out, &cap))
    return NULL;
  socklen_t len = (socklen_t)cap;
  if (getsockname(fd, (struct sockaddr *)out, &len) != 0)
    return throw_errno(env, errno, "getsockname", NULL);
  return make_int(env, (int32_t)len);
}

/* setsockoptInt(fd, level, name, value). */
static napi_value js_setsockopt_int(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd, level, name, value;
  if (!get_args(env, info, 4, argv) || !get_int(env, argv[0], &fd) ||
      !get_int(env, argv[1], &level) || !get_int(env, argv[2], &name) ||
      !get_int(env, argv[3], &value))
    return NULL;
  if (setsockopt(fd, level, name, &value, sizeof value) != 0)
    return throw_errno(env, errno, "setsockopt", NULL);
  return undefined(env);
}

/* setsockoptBytes(fd, level, name, bytes): for struct-valued options (e.g. ICMP6_FILTER). */
static napi_value js_setsockopt_bytes(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd, level, name;
  void *data;
  size_t len;
  if (!get_args(env, info, 4, argv) || !get_int(env, argv[0], &fd) ||
      !get_int(env, argv[1], &level) || !get_int(env, argv[2], &name) ||
      !get_bytes(env, argv[3], &data, &len))
    return NULL;
  if (setsockopt(fd, level, name, data, (socklen_t)len) != 0)
    return throw_errno(env, errno, "setsockopt", NULL);
  return undefined(env);
}

/* sendTo(fd, bytes, sockaddrBytes | null) -> bytes sent, or -1 on EAGAIN. */
static napi_value js_send_to(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd;
  void *data, *addr = NULL;
  size_t len, addr_len = 0;
  napi_valuetype addr_type;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &fd) ||
      !get_bytes(env, argv[1], &data, &len))
    return NULL;
  napi_typeof(env, argv[2], &addr_type);
  if (addr_type != napi_null && addr_type != napi_undefined &&
      !get_bytes(env, argv[2], &addr, &addr_len))
    return NULL;
  ssize_t n;
  do {
    n = sendto(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)addr,
               (socklen_t)addr_len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return make_int(env, -1);
    return throw_errno(env, errno, "sendto", NULL);
  }
  return make_int(env, n);
}

/* recv(fd, buffer, flags) -> bytes (the real size with MSG_TRUNC), or -1 on EAGAIN. */
static napi_value js_recv(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, flags;
  void *data;
  size_t len;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &fd) ||
      !get_bytes(env, argv[1], &data, &len) || !get_int(env, argv[2], &flags))
    return NULL;
  ssize_t n;
  do {
    n = recv(fd, data, len, flags | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return make_int(env, -1);
    return throw_errno(env, errno, "recv", NULL);
  }
  return make_int(env, n);
}

/* close(fd). */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  if (close(fd) != 0 && errno != EINTR) return throw_errno(env, errno, "close", NULL);
  return undefined(env);
}

/* ---- replacing the process --------------------------------------------------------- */

/* execReplace(file, argv, env): execve(2) in place of this process (`nsbox exec` becomes the
 * nsbox-exec helper, and that the command, as `ip netns exec` does). What Node changed for
 * itself is put back first, so the program starts as from a plain exec: SIGPIPE and SIGXFSZ
 * (ignored by Node) to their defaults, this thread's signal mask empty, and stdin, stdout and
 * stderr inherited and blocking again (Node marks every fd it starts with close-on-exec, and
 * libuv makes a pipe or terminal non-blocking once its stream exists).
 * Returns only when execve failed: the changes are undone and SysError thrown. Every other fd
 * of this process is close-on-exec. */
static napi_value js_exec_replace(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char file[PATH_MAX_LEN];
  if (!get_args(env, info, 3, argv) || !get_path(env, argv[0], file)) return NULL;
  char **args = get_string_array(env, argv[1], "expected an array of argument strings");
  if (args == NULL) return NULL;
  char **envp = get_string_array(env, argv[2], "expected an array of NAME=VALUE strings");
  if (envp == NULL) {
    free_string_array(args);
    return NULL;
  }
  int stdio_flags[3], stdio_fd_flags[3];
  for (int fd = 0; fd < 3; fd++) {
    stdio_flags[fd] = fcntl(fd, F_GETFL);
    if (stdio_flags[fd] >= 0 && (stdio_flags[fd] & O_NONBLOCK) != 0) fcntl(fd, F_SETFL, stdio_flags[fd] & ~O_NONBLOCK);
    stdio_fd_flags[fd] = fcntl(fd, F_GETFD);
    if (stdio_fd_flags[fd] >= 0 && (stdio_fd_flags[fd] & FD_CLOEXEC) != 0) fcntl(fd, F_SETFD, stdio_fd_flags[fd] & ~FD_CLOEXEC);
  }
  struct sigaction dfl = {.sa_handler = SIG_DFL}, old_pipe, old_xfsz;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGPIPE, &dfl, &old_pipe);
  sigaction(SIGXFSZ, &dfl, &old_xfsz);
  sigset_t none, old_mask;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, &old_mask);
  execve(file, args, envp);
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  sigaction(SIGPIPE, &old_pipe, NULL);
  sigaction(SIGXFSZ, &old_xfsz, NULL);
  for (int fd = 0; fd < 3; fd++) {
    if (stdio_flags[fd] >= 0) fcntl(fd, F_SETFL, stdio_flags[fd]);
    if (stdio_fd_flags[fd] >= 0) fcntl(fd, F_SETFD, stdio_fd_flags[fd]);
  }
  free_string_array(args);
  free_string_array(envp);
  return throw_errno(env, err, "execve", file);
}

/* ---- readiness (uv_poll) ---------------------------------------------------------- */

struct poller {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  bool stopped;
  /* Two owners: the JS external (until finalized) and libuv (until the close callback). The
   * last one to let go frees the struct. */
  bool closed;
  bool finalized;
};

static void poller_closed(uv_handle_t *handle) {
  struct poller *p = handle->data;
  p->closed = true;
  if (p->finalized) free(p);
}

static void poller_stop(struct poller *p) {
  if (p->stopped) return;
  p->stopped = true;
  uv_poll_stop(&p->handle);
  if (p->callback != NULL) {
    napi_delete_reference(p->env, p->callback);
    p->callback = NULL;
  }
  uv_close((uv_handle_t *)&p->handle, poller_closed);
}

static void poller_fired(uv_poll_t *handle, int status, int events) {
  struct poller *p = handle->data;
  if (p->stopped || p->callback == NULL) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, argv[2], result;
  napi_async_context ctx = NULL;
  napi_value resource_name;
  napi_create_string_utf8(env, "nsbox.poll", NAPI_AUTO_LENGTH, &resource_name);
  if (napi_get_reference_value(env, p->callback, &cb) == napi_ok && cb != NULL &&
      napi_get_global(env, &global) == napi_ok &&
      napi_async_init(env, NULL, resource_name, &ctx) == napi_ok) {
    napi_create_int32(env, status, &argv[0]);
    napi_create_int32(env, events, &argv[1]);
    /* napi_make_callback needs an object receiver (node-feasibility §4). */
    napi_status st = napi_make_callback(env, ctx, global, cb, 2, argv, &result);
    if (st != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value exception;
        napi_get_and_clear_last_exception(env, &exception);
        napi_fatal_exception(env, exception);
      }
    }
    napi_async_destroy(env, ctx);
  }
  napi_close_handle_scope(env, scope);
}

static void poller_finalize(napi_env env, void *data, void *hint) {
  struct poller *p = data;
  p->finalized = true;
  if (!p->stopped) {
    p->stopped = true;
    uv_poll_stop(&p->handle);
    if (p->callback != NULL) napi_delete_reference(env, p->callback);
    p->callback = NULL;
    uv_close((uv_handle_t *)&p->handle, poller_closed); /* poller_closed frees it */
  } else if (p->closed) {
    free(p);
  }
  /* Stopped but not yet closed: poller_closed frees it once libuv has closed the handle. */
}

static struct poller *get_poller(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "NSBOX_ERR_NATIVE_ARGS", "expected a poller handle");
    return NULL;
  }
  return data;
}

/* pollStart(fd, events, callback(status, events)) -> handle. Starts referenced. */
static napi_value js_poll_start(napi_env env, napi_callback_info info) {
  napi_value argv[3], out;
  int32_t fd, events;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &fd) ||
      !get_int(env, argv[1], &events))
    return NULL;
  uv_loop_t *loop;
  NAPI_CALL(env, napi_get_uv_event_loop(env, &loop));
  struct poller *p = calloc(1, sizeof *p);
  if (p == NULL) return throw_errno(env, ENOMEM, "calloc", NULL);
  p->env = env;
  p->handle.data = p;
  int rc = uv_poll_init(loop, &p->handle, fd);
  if (rc != 0) {
    free(p);
    return throw_errno(env, -rc, "uv_poll_init", NULL);
  }
  if (napi_create_reference(env, argv[2], 1, &p->callback) != napi_ok) {
    p->stopped = true;
    p->finalized = true; /* no external will own it */
    uv_close((uv_handle_t *)&p->handle, poller_closed);
    return NULL;
  }
  rc = uv_poll_start(&p->handle, events, poller_fired);
  if (rc != 0) {
    p->finalized = true; /* no external will own it */
    poller_stop(p);
    return throw_errno(env, -rc, "uv_poll_start", NULL);
  }
  if (napi_create_external(env, p, poller_finalize, NULL, &out) != napi_ok) {
    p->finalized = true;
    poller_stop(p);
    return NULL;
  }
  return out;
}

/* pollRef(handle, bool): whether a waiting poller keeps the event loop alive. */
static napi_value js_poll_ref(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool ref;
  if (!get_args(env, info, 2, argv)) return NULL;
  struct poller *p = get_poller(env, argv[0]);
  if (p == NULL) return NULL;
  NAPI_CALL(env, napi_get_value_bool(env, argv[1], &ref));
  if (!p->stopped) {
    if (ref) uv_ref((uv_handle_t *)&p->handle);
    else uv_unref((uv_handle_t *)&p->handle);
  }
  return undefined(env);
}

/* pollStop(handle): stop watching; call before closing the fd. Idempotent. */
static napi_value js_poll_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  struct poller *p = get_poller(env, argv[0]);
  if (p == NULL) return NULL;
  poller_stop(p);
  return undefined(env);
}

/* ---- module ------------------------------------------------------------------------ */

static napi_async_work pool_start_work = NULL;

static void noop_work(napi_env env, void *data) {}

static void noop_done(napi_env env, napi_status status, void *data) {
  napi_delete_async_work(env, pool_start_work);
  pool_start_work = NULL;
}

/* Queue one no-op job so libuv creates every pool thread now, in the host netns. */
static void start_thread_pool(napi_env env) {
  napi_value name;
  napi_create_string_utf8(env, "nsbox.poolstart", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, noop_work, noop_done, NULL, &pool_start_work) ==
      napi_ok)
    napi_queue_async_work(env, pool_start_work);
}

static napi_value module_init(napi_env env, napi_value exports) {
  const char *hooks = getenv("NSBOX_TEST_HOOKS");
  bool with_hooks = hooks != NULL && strcmp(hooks, "1") == 0;
  napi_property_descriptor props[] = {
      {"init", NULL, js_init, NULL, NULL, NULL, napi_enumerable, NULL},
      {"createNetns", NULL, js_create_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"destroyNetns", NULL, js_destroy_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bindNetns", NULL, js_bind_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openNetns", NULL, js_open_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"nsType", NULL, js_ns_type, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fileIds", NULL, js_file_ids, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flock", NULL, js_flock, NULL, NULL, NULL, napi_enumerable, NULL},
      {"withNetns", NULL, js_with_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"socketIn", NULL, js_socket_in, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openNetlink", NULL, js_open_netlink, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readFileIn", NULL, js_read_file_in, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeFileIn", NULL, js_write_file_in, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openProcfs", NULL, js_open_procfs, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bind", NULL, js_bind, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sockName", NULL, js_sock_name, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setsockoptInt", NULL, js_setsockopt_int, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setsockoptBytes", NULL, js_setsockopt_bytes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendTo", NULL, js_send_to, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recv", NULL, js_recv, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"execReplace", NULL, js_exec_replace, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollStart", NULL, js_poll_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollRef", NULL, js_poll_ref, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollStop", NULL, js_poll_stop, NULL, NULL, NULL, napi_enumerable, NULL},
      {"testFailNextRestore", NULL, js_test_fail_next_restore, NULL, NULL, NULL,
       napi_enumerable, NULL},
  };
  size_t count = sizeof props / sizeof props[0];
  if (!with_hooks) count -= 1;
  if (napi_define_properties(env, exports, count, props) != napi_ok) return NULL;
  start_thread_pool(env);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, module_init)
