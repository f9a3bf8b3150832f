/*
 * nsbox-exec — layer: native. A separate executable, built by binding.gyp next to the addon
 * (build/Release/nsbox-exec); not part of the addon and never loaded by Node.
 *
 *   nsbox-exec [--netns FILE] NAME ETCDIR -- CMD [ARG…]
 *
 * With --netns, it first joins the network namespace bound at FILE (setns), for a caller that
 * is not inside it: the `nsbox run` client handed its kernel work to `nsbox agent`
 * (src/cli/run-handoff.ts) and has no netns window of its own.
 *
 * What `ip netns exec NAME` does once it has joined the network namespace, for a process that
 * is already inside it (src/managed/ spawns this from inside a netns window, in place of CMD):
 *
 *   1. a private mount namespace (unshare CLONE_NEWNS), with / made rslave so no mount made
 *      here propagates back to the host;
 *   2. /sys detached and a sysfs of this network namespace mounted there (NAME is its source;
 *      read-only when the old one was read-only and could not be detached);
 *   3. each entry of ETCDIR (/etc/netns/NAME) bind-mounted over /etc/<entry>; a failed bind
 *      is reported and skipped, as iproute2 does; a missing ETCDIR binds nothing;
 *   4. execvp(CMD): the command replaces this process, so its pid, stdio, signals and exit
 *      status are the ones nsbox already supervises.
 *
 * Why a process: unshare(CLONE_NEWNS) is refused in a multithreaded process (Node is one), and
 * child_process runs nothing between fork and exec. No policy lives here: which directory to
 * bind is the caller's choice.
 *
 * Exit status before CMD runs, as env(1) and `nsbox exec` document: 125 when the mount
 * namespace could not be set up (or bad usage), 126 when CMD cannot be executed, 127 when it
 * is not found. Every message names the step and the errno (its glibc name and text).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

enum { EXIT_SETUP_FAILED = 125, EXIT_NOT_EXECUTABLE = 126, EXIT_NOT_FOUND = 127 };

static const char ETC[] = "/etc";

/* "EPERM: Operation not permitted" (glibc 2.32+ knows the names; elsewhere the number). */
static void print_errno(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(err);
  if (name != NULL) {
    fprintf(stderr, "%s: %s\n", name, strerror(err));
    return;
  }
#endif
  fprintf(stderr, "errno %d: %s\n", err, strerror(err));
}

static void report(const char *step, const char *path, int err) {
  fprintf(stderr, "nsbox: %s%s%s: ", step, path ? " " : "", path ? path : "");
  print_errno(err);
}

static int setup_failed(const char *step, const char *path) {
  report(step, path, errno);
  return EXIT_SETUP_FAILED;
}

/* A sysfs that shows this network namespace's links, where the host's was. */
static int remount_sysfs(const char *name) {
  unsigned long flags = 0;
  if (umount2("/sys", MNT_DETACH) != 0) {
    /* Nothing mounted there is fine; one that stays may be read-only, and a read-write
     * instance cannot be mounted over a read-only one. */
    struct statvfs st;
    if (statvfs("/sys", &st) == 0 && (st.f_flag & ST_RDONLY)) flags = MS_RDONLY;
  }
  if (mount(name, "/sys", "sysfs", flags, NULL) != 0) return setup_failed("mount sysfs on", "/sys");
  return 0;
}

/* Bind every entry of `dir` over the file of the same name in /etc; failures are reported, not fatal. */
static void bind_etc_files(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    if (errno != ENOENT) report("open", dir, errno);
    return;
  }
  struct dirent *entry;
  char source[4096];
  char target[4096];
  while ((entry = readdir(d)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    int s = snprintf(source, sizeof source, "%s/%s", dir, entry->d_name);
    int t = snprintf(target, sizeof target, "%s/%s", ETC, entry->d_name);
    if (s < 0 || (size_t)s >= sizeof source || t < 0 || (size_t)t >= sizeof target) {
      report("bind (path too long)", entry->d_name, ENAMETOOLONG);
      continue;
    }
    if (mount(source, target, NULL, MS_BIND, NULL) != 0) {
      int err = errno;
      fprintf(stderr, "nsbox: bind %s over %s: ", source, target);
      print_errno(err);
    }
  }
  closedir(d);
}

int main(int argc, char **argv) {
  const char *netns = NULL;
  if (argc >= 3 && strcmp(argv[1], "--netns") == 0) {
    netns = argv[2];
    argv += 2;
    argc -= 2;
  }
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: nsbox-exec [--netns FILE] NAME ETCDIR -- CMD [ARG...]\n");
    return EXIT_SETUP_FAILED;
  }
  if (netns != NULL) {
    int fd = open(netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return setup_failed("open", netns);
    if (setns(fd, CLONE_NEWNET) != 0) return setup_failed("join the network namespace", netns);
    close(fd);
  }
  const char *name = argv[1];
  const char *etc_dir = argv[2];
  char **command = &argv[4];

  if (unshare(CLONE_NEWNS) != 0) return setup_failed("unshare a mount namespace", NULL);
  /* Nothing mounted from here on may reach the host's mount namespace. */
  if (mount("", "/", NULL, MS_SLAVE | MS_REC, NULL) != 0) return setup_failed("make rslave", "/");
  int rc = remount_sysfs(name);
  if (rc != 0) return rc;
  bind_etc_files(etc_dir);

  execvp(command[0], command);
  int err = errno;
  if (err == ENOENT) {
    fprintf(stderr, "nsbox: cannot run %s: command not found\n", command[0]);
    return EXIT_NOT_FOUND;
  }
  fprintf(stderr, "nsbox: cannot run %s: ", command[0]);
  print_errno(err);
  return EXIT_NOT_EXECUTABLE;
}
