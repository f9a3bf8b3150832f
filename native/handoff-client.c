/*
 * nsbox-handoff — layer: native. A separate executable, built by binding.gyp next to the addon
 * (build/Release/nsbox-handoff); never loaded by Node. bin/nsbox (the package's launcher)
 * execs it for `nsbox run` and `nsbox exec`, so that with a running `nsbox agent` neither
 * command starts Node at all (docs/benchmarks.md, "Cold start"):
 *
 *   nsbox-handoff [--root DIR] run [--name N] [--network NET]… [--ip IP] [--dns IP]… -- CMD…
 *   nsbox-handoff [--root DIR] exec NAME -- CMD…
 *   nsbox-handoff [--root DIR] [--json] ls|list|inspect|create|rm|remove ARGS…
 *
 * It is the native twin of src/cli/run-handoff.ts (the client bin/nsbox.cjs uses when started
 * as `node bin/nsbox.js`), speaking the same conversation with src/agent/run-service.ts:
 *
 *   run:  request (kind "run", stdin: JSON {argv, name, networks?, ip?, dns?}, env NSBOX_ROOT)
 *         ← served: stdout "NAME\0NETNS\0ETCDIR", stderr the warnings to print
 *         the command started here, as a child (`nsbox-exec --netns NETNS NAME ETCDIR -- CMD`),
 *         with this process's signals passed on to it
 *         → one line {"code":N[,"signal":"SIGX"]} once it ended
 *         ← served: stderr what the removal says; end
 *   exec: request (kind "exec", stdin: JSON {name}) ← served: the same target; the command
 *         replaces this process (or, with warnings to print after it, runs as a child).
 *   cli:  request (kind "cli", stdin: the arguments after --root joined by NUL, env NSBOX_ROOT
 *         and NSBOX_CLIENT_NS, this process's mount and network namespaces) ← served: the
 *         CLI's stdout, stderr and exit code, run by the agent (src/agent/cli-service.ts).
 *         Not with an NSBOX_ variable that changes what the CLI does (NSBOX_HOST, NSBOX_TEST_…,
 *         NSBOX_TRACE_STARTUP) or --help.
 *
 * Whenever the agent cannot serve the call, the CLI runs it, exactly as without an agent: this
 * process execs `node PACKAGE/bin/nsbox.cjs` with the same arguments and environment (and
 * NSBOX_HANDOFF_TRIED=1, so it does not ask the agent again; =noagent when none answered, so it
 * starts one on demand after the call: src/agent/on-demand.ts). That is the case for other
 * arguments (-p, --keep, --json, help…), NSBOX_AGENT=0, NSBOX_HOST set, no agent answering at
 * NSBOX_AGENT_SOCKET or ROOT/agent.sock, and a declined call (another root, a network not made
 * yet, a bad request: the CLI then says what was wrong).
 *
 * The agent gone mid-call: before the sandbox was ready, the CLI is exec'd with
 * NSBOX_HANDOFF_REAP=NAME (it first removes what the agent may have left of this call's
 * sandbox, as gc would, then runs the command itself); after, the command runs on, and then
 * `node bin/nsbox.cjs` is run with NSBOX_HANDOFF_REAP=NAME and NSBOX_HANDOFF_REAP_ONLY=1.
 * Either way nothing is left.
 *
 * bin/nsbox moved NODE_OPTIONS and NODE_EXTRA_CA_CERTS aside (NSBOX_SAVED_…) for nsbox's own
 * Node; they are put back for the command.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-frame.h"

const char *oom_prefix = "nsbox";

extern char **environ;

enum { EXIT_SETUP_FAILED = 125 };
enum { MAX_LIST = 64 };

struct call {
  const char *root; /* --root, or NULL */
  int is_exec;
  int is_cli;      /* ls, inspect, create, rm (and aliases): run by the agent's CLI */
  char **cli_args; /* from after --root to the end, NULL-terminated */
  const char *cli_command;
  const char *name; /* --name (run), NAME (exec), or NULL */
  const char *networks[MAX_LIST];
  int n_networks;
  const char *ip;
  const char *dns[MAX_LIST];
  int n_dns;
  char **cmd; /* after "--", NULL-terminated */
};

static int argc_;
static char **argv_;
/* NSBOX_HANDOFF_TRIED for the CLI: "noagent" when no agent answered (the CLI then starts one on demand). */
static const char *tried_ = "1";

/* `node PACKAGE/bin/nsbox.cjs ARGS…` in place of this process, with `reap` (a sandbox name) to remove first. Never returns. */
static void run_cli(const char *reap, int reap_only) {
  char dir[PATH_MAX], script[PATH_MAX + 32];
  if (exe_dir(dir, sizeof dir) != 0 || (size_t)snprintf(script, sizeof script, "%s/../../bin/nsbox.cjs", dir) >= sizeof script) {
    fprintf(stderr, "nsbox: cannot find bin/nsbox.cjs beside %s\n", argv_[0]);
    _exit(1);
  }
  setenv("NSBOX_HANDOFF_TRIED", tried_, 1);
  if (reap != NULL) setenv("NSBOX_HANDOFF_REAP", reap, 1);
  if (reap_only) setenv("NSBOX_HANDOFF_REAP_ONLY", "1", 1);
  char **args = calloc((size_t)argc_ + 2, sizeof *args);
  if (args == NULL) _exit(1);
  args[0] = (char *)"node";
  args[1] = script;
  for (int i = 1; i < argc_; i++) args[i + 1] = argv_[i];
  signal(SIGPIPE, SIG_DFL);
  execvp("node", args);
  fprintf(stderr, "nsbox: cannot run node: %s\n", strerror(errno));
  _exit(1);
}

/* The commands the agent's CLI runs for this client (agent/cli-service.ts CLI_COMMANDS). */
static const char *const CLI_COMMANDS[] = {"ls", "list", "inspect", "create", "rm", "remove"};

static int is_cli_command(const char *word) {
  for (size_t i = 0; i < sizeof CLI_COMMANDS / sizeof *CLI_COMMANDS; i++) {
    if (strcmp(word, CLI_COMMANDS[i]) == 0) return 1;
  }
  return 0;
}

/* Whether the environment holds an NSBOX_ variable that changes what the CLI does (NSBOX_HOST, a test hook, the startup trace): then the CLI runs the call itself. */
static int nsbox_env_set(void) {
  static const char *const changing[] = {"NSBOX_HOST=", "NSBOX_TEST_", "NSBOX_TRACE_STARTUP="};
  for (char **e = environ; *e != NULL; e++) {
    for (size_t i = 0; i < sizeof changing / sizeof *changing; i++) {
      if (strncmp(*e, changing[i], strlen(changing[i])) == 0 && strcmp(*e, "NSBOX_HOST=") != 0) return 1;
    }
  }
  return 0;
}

/* The arguments as run-handoff.ts parseRunArgv/parseExecArgv take them (or a CLI command of the agent's): 0 when they are the CLI's. */
static int parse(struct call *c) {
  int i = 1;
  if (i + 1 < argc_ && strcmp(argv_[i], "--root") == 0) {
    c->root = argv_[i + 1];
    i += 2;
    if (c->root[0] == '\0') return 0;
  }
  if (i >= argc_) return 0;
  int first = i;
  while (i < argc_ && strcmp(argv_[i], "--json") == 0) i++;
  if (i < argc_ && is_cli_command(argv_[i])) {
    for (int k = i; k < argc_; k++) {
      if (strcmp(argv_[k], "--help") == 0 || strcmp(argv_[k], "-h") == 0 || strcmp(argv_[k], "--root") == 0 || strcmp(argv_[k], "--host") == 0) return 0;
    }
    c->is_cli = 1;
    c->cli_command = argv_[i];
    c->cli_args = argv_ + first;
    return 1;
  }
  i = first;
  if (strcmp(argv_[i], "exec") == 0) {
    if (argc_ < i + 4 || argv_[i + 1][0] == '-' || strcmp(argv_[i + 2], "--") != 0) return 0;
    c->is_exec = 1;
    c->name = argv_[i + 1];
    c->cmd = argv_ + i + 3;
    return 1;
  }
  if (strcmp(argv_[i], "run") != 0) return 0;
  for (i++; i < argc_; i += 2) {
    const char *a = argv_[i];
    if (strcmp(a, "--") == 0) {
      c->cmd = argv_ + i + 1;
      return i + 1 < argc_;
    }
    if (i + 1 >= argc_ || argv_[i + 1][0] == '-') return 0;
    const char *v = argv_[i + 1];
    if (strcmp(a, "--name") == 0) {
      if (c->name != NULL) return 0;
      c->name = v;
    } else if (strcmp(a, "--ip") == 0) {
      if (c->ip != NULL) return 0;
      c->ip = v;
    } else if (strcmp(a, "--network") == 0) {
      if (c->n_networks == MAX_LIST) return 0;
      c->networks[c->n_networks++] = v;
    } else if (strcmp(a, "--dns") == 0) {
      if (c->n_dns == MAX_LIST) return 0;
      c->dns[c->n_dns++] = v;
    } else {
      return 0;
    }
  }
  return 0;
}

/* s as a JSON string (argv is bytes; non-ASCII passes through as Node would read it: UTF-8). */
static void json_str(struct buf *b, const char *s) {
  buf_put(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      char esc[2] = {'\\', (char)*p};
      buf_put(b, esc, 2);
    } else if (*p < 0x20) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", *p);
      buf_put(b, esc, 6);
    } else {
      buf_put(b, p, 1);
    }
  }
  buf_put(b, "\"", 1);
}

static void json_list(struct buf *b, const char *key, const char *const *items, int n) {
  buf_put(b, ",\"", 2);
  buf_put(b, key, strlen(key));
  buf_put(b, "\":[", 3);
  for (int i = 0; i < n; i++) {
    if (i > 0) buf_put(b, ",", 1);
    json_str(b, items[i]);
  }
  buf_put(b, "]", 1);
}

/* The agent's request frame: kind, stdin, NSBOX_ROOT=root and `extra_env` ("KEY=VALUE", or NULL). */
static void request(struct buf *req, const char *kind, const struct buf *spec, const char *root, const char *extra_env) {
  frame_request_head(req, extra_env == NULL ? 3 : 4);
  buf_field(req, kind, strlen(kind));
  buf_field(req, spec->data, spec->len);
  struct buf env = {0};
  buf_put(&env, "NSBOX_ROOT=", 11);
  buf_put(&env, root, strlen(root));
  buf_field(req, env.data, env.len);
  free(env.data);
  if (extra_env != NULL) buf_field(req, extra_env, strlen(extra_env));
}

/* Where the agent said to start the command: "NAME\0NETNS\0ETCDIR" (copied, NUL-terminated). */
struct target {
  char *name, *netns, *etc_dir;
};

static int parse_target(const struct agent_reply *r, struct target *t) {
  char *copy = malloc(r->out_len + 1);
  if (copy == NULL) return -1;
  memcpy(copy, r->out, r->out_len);
  copy[r->out_len] = '\0';
  char *end = copy + r->out_len;
  t->name = copy;
  t->netns = t->name + strlen(t->name) + 1;
  if (t->netns >= end) return -1;
  t->etc_dir = t->netns + strlen(t->netns) + 1;
  if (t->etc_dir > end || t->etc_dir + strlen(t->etc_dir) != end || t->name[0] == '\0' || t->netns[0] == '\0') return -1;
  return 0;
}

/* NODE_OPTIONS and NODE_EXTRA_CA_CERTS as the caller had them (bin/nsbox moved them aside). */
static void restore_node_env(void) {
  static const char *const vars[] = {"NODE_OPTIONS", "NODE_EXTRA_CA_CERTS"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
    char saved_key[64];
    snprintf(saved_key, sizeof saved_key, "NSBOX_SAVED_%s", vars[i]);
    const char *saved = getenv(saved_key);
    if (saved == NULL) continue;
    setenv(vars[i], saved, 1);
    unsetenv(saved_key);
  }
}

/* `nsbox-exec --netns NETNS NAME ETCDIR -- CMD…` in place of this process. Never returns. */
static void exec_helper(const char *helper, const struct target *t, char **cmd) {
  int n = 0;
  while (cmd[n] != NULL) n++;
  char **args = calloc((size_t)n + 7, sizeof *args);
  if (args == NULL) _exit(EXIT_SETUP_FAILED);
  int k = 0;
  args[k++] = (char *)helper;
  args[k++] = (char *)"--netns";
  args[k++] = t->netns;
  args[k++] = t->name;
  args[k++] = t->etc_dir;
  args[k++] = (char *)"--";
  for (int i = 0; i < n; i++) args[k++] = cmd[i];
  restore_node_env();
  signal(SIGPIPE, SIG_DFL); /* ignored here only for the agent's socket: the command gets the default */
  execv(helper, args);
  fprintf(stderr, "nsbox: cannot start the helper: %s\n", strerror(errno));
  _exit(EXIT_SETUP_FAILED);
}

static const int FORWARDED[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP};
static volatile sig_atomic_t child_pid;

static void forward(int sig) {
  if (child_pid > 0) kill((pid_t)child_pid, sig);
}

struct outcome {
  int code, signal;
};

/* The forwarded signals to `handler`: forward() while the command runs, SIG_DFL in it and after. */
static void handle_forwarded(void (*handler)(int)) {
  struct sigaction sa = {.sa_handler = handler, .sa_flags = handler == SIG_DFL ? 0 : SA_RESTART};
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) sigaction(FORWARDED[i], &sa, NULL);
}

/* Start the command as a child and wait for it, passing this process's signals on (as run-handoff.ts supervise). */
static struct outcome supervise(const char *helper, const struct target *t, char **cmd) {
  handle_forwarded(forward);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "nsbox: cannot start the helper: %s\n", strerror(errno));
    return (struct outcome){EXIT_SETUP_FAILED, 0};
  }
  if (pid == 0) {
    handle_forwarded(SIG_DFL);
    exec_helper(helper, t, cmd);
  }
  child_pid = pid;
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return (struct outcome){1, 0};
  }
  child_pid = 0;
  handle_forwarded(SIG_DFL);
  if (WIFSIGNALED(status)) return (struct outcome){128 + WTERMSIG(status), WTERMSIG(status)};
  return (struct outcome){WEXITSTATUS(status), 0};
}

/* The command's outcome as this process's: its exit code, or the same signal (as run-handoff.ts exitLike). */
static int exit_like(struct outcome o) {
  if (o.signal != 0) {
    signal(o.signal, SIG_DFL);
    raise(o.signal);
  }
  return o.code;
}

static int exec_call(int sock, const struct call *c, const char *root, const char *helper) {
  struct buf spec = {0}, req = {0}, rep = {0};
  buf_put(&spec, "{\"name\":", 8);
  json_str(&spec, c->name);
  buf_put(&spec, "}", 1);
  request(&req, "exec", &spec, root, NULL);
  struct agent_reply r;
  if (write_all(sock, req.data, req.len) != 0 || shutdown(sock, SHUT_WR) != 0 || frame_read_reply(sock, &rep, &r) != 1) run_cli(NULL, 0);
  close(sock);
  struct target t;
  /* declined, or gone: exec changes nothing, the CLI runs it */
  if (r.status != AGENT_STATUS_SERVED || parse_target(&r, &t) != 0) run_cli(NULL, 0);
  if (r.err_len == 0) exec_helper(helper, &t, c->cmd);
  struct outcome o = supervise(helper, &t, c->cmd);
  (void)write_all(2, r.err, r.err_len); /* where the CLI says its warnings: after the command */
  return exit_like(o);
}

/* "NSBOX_CLIENT_NS=mnt:INODE net:INODE": the agent runs the call only in the same namespaces as its own. */
static int client_namespaces(char *out, size_t size) {
  struct stat mnt, net;
  if (stat("/proc/self/ns/mnt", &mnt) != 0 || stat("/proc/self/ns/net", &net) != 0) return -1;
  return (size_t)snprintf(out, size, "NSBOX_CLIENT_NS=mnt:%lu net:%lu", (unsigned long)mnt.st_ino, (unsigned long)net.st_ino) < size ? 0 : -1;
}

/* ls, inspect, create, rm run by the agent's CLI: its stdout, stderr and exit code are this call's. */
static int cli_call(int sock, const struct call *c, const char *root) {
  char ns[96];
  if (client_namespaces(ns, sizeof ns) != 0) run_cli(NULL, 0);
  struct buf args = {0}, req = {0}, rep = {0};
  for (char **a = c->cli_args; *a != NULL; a++) {
    if (a != c->cli_args) buf_put(&args, "", 1);
    buf_put(&args, *a, strlen(*a));
  }
  request(&req, "cli", &args, root, ns);
  struct agent_reply r;
  int got = write_all(sock, req.data, req.len) == 0 && shutdown(sock, SHUT_WR) == 0 ? frame_read_reply(sock, &rep, &r) : -1;
  close(sock);
  if (got != 1) {
    /* gone mid-call: a look is safe to repeat, a change may be half done */
    if (strcmp(c->cli_command, "create") != 0 && strcmp(c->cli_command, "rm") != 0 && strcmp(c->cli_command, "remove") != 0) run_cli(NULL, 0);
    fprintf(stderr, "nsbox: the agent went away during `%s`; it may be done in part: see `nsbox ls`\n", c->cli_command);
    return 1;
  }
  if (r.status != AGENT_STATUS_SERVED) run_cli(NULL, 0);
  if (write_all(1, r.out, r.out_len) != 0 && errno != EPIPE) return 1;
  (void)write_all(2, r.err, r.err_len);
  return r.exit_code > 255 ? 1 : (int)r.exit_code;
}

/* run-<8 hex>, as managed/run.ts names a run's sandbox. */
static void run_name(char *out, size_t size) {
  unsigned char b[4] = {0};
  ssize_t n;
  do n = getrandom(b, sizeof b, 0);
  while (n < 0 && errno == EINTR);
  snprintf(out, size, "run-%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
}

static int run_call(int sock, const struct call *c, const char *root, const char *helper) {
  char generated[16];
  const char *name = c->name;
  if (name == NULL) {
    run_name(generated, sizeof generated);
    name = generated;
  }
  struct buf spec = {0}, req = {0}, rep = {0};
  buf_put(&spec, "{\"name\":", 8);
  json_str(&spec, name);
  int n = 0;
  while (c->cmd[n] != NULL) n++;
  json_list(&spec, "argv", (const char *const *)c->cmd, n);
  if (c->n_networks > 0) json_list(&spec, "networks", c->networks, c->n_networks);
  if (c->ip != NULL) {
    buf_put(&spec, ",\"ip\":", 6);
    json_str(&spec, c->ip);
  }
  if (c->n_dns > 0) json_list(&spec, "dns", c->dns, c->n_dns);
  buf_put(&spec, "}", 1);
  request(&req, "run", &spec, root, NULL);

  struct agent_reply ready;
  struct target t;
  if (write_all(sock, req.data, req.len) != 0 || frame_read_reply(sock, &rep, &ready) != 1) {
    close(sock);
    run_cli(name, 0); /* gone before the sandbox was ready: what it made of this call is reaped first */
  }
  if (ready.status != AGENT_STATUS_SERVED) {
    close(sock);
    run_cli(NULL, 0);
  }
  if (parse_target(&ready, &t) != 0) {
    close(sock);
    run_cli(name, 0);
  }
  (void)write_all(2, ready.err, ready.err_len);
  size_t consumed = ready.frame_len;

  struct outcome o = supervise(helper, &t, c->cmd);
  char line[64];
  int len = o.signal != 0 ? snprintf(line, sizeof line, "{\"code\":%d,\"signal\":\"SIG%s\"}\n", o.code, sigabbrev_np(o.signal))
                          : snprintf(line, sizeof line, "{\"code\":%d}\n", o.code);
  struct buf rest = {0};
  buf_put(&rest, rep.data + consumed, rep.len - consumed);
  struct agent_reply removed;
  int got = write_all(sock, line, (size_t)len) == 0 ? frame_read_reply(sock, &rest, &removed) : 0;
  close(sock);
  if (got != 1) {
    fprintf(stderr, "nsbox: the agent went away during the run; removing %s here\n", t.name);
    pid_t pid = fork();
    if (pid == 0) run_cli(t.name, 1);
    int status;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return exit_like(o);
  }
  (void)write_all(2, removed.err, removed.err_len);
  if (removed.exit_code != 0 && o.code == 0) return removed.exit_code > 255 ? 1 : (int)removed.exit_code;
  return exit_like(o);
}

int main(int argc, char **argv) {
  argc_ = argc;
  argv_ = argv;
  signal(SIGPIPE, SIG_IGN); /* a dead agent is EPIPE from write, handled where it happens */
  const char *off = getenv("NSBOX_AGENT"), *host = getenv("NSBOX_HOST");
  if ((off != NULL && strcmp(off, "0") == 0) || (host != NULL && host[0] != '\0')) run_cli(NULL, 0);
  struct call c = {0};
  if (!parse(&c) || (c.is_cli && nsbox_env_set())) run_cli(NULL, 0);

  char dir[PATH_MAX], helper[PATH_MAX + 16];
  if (exe_dir(dir, sizeof dir) != 0 || (size_t)snprintf(helper, sizeof helper, "%s/nsbox-exec", dir) >= sizeof helper || access(helper, X_OK) != 0) run_cli(NULL, 0);

  /* the state root as path.resolve would make it absolute (the agent resolves it again) */
  const char *given = c.root;
  if (given == NULL) given = getenv("NSBOX_ROOT");
  if (given == NULL || given[0] == '\0') given = "/var/lib/nsbox";
  char root[PATH_MAX * 2], cwd[PATH_MAX];
  if (given[0] == '/') snprintf(root, sizeof root, "%s", given);
  else if (getcwd(cwd, sizeof cwd) != NULL) snprintf(root, sizeof root, "%s/%s", cwd, given);
  else run_cli(NULL, 0);

  const char *socket_path = getenv("NSBOX_AGENT_SOCKET");
  char default_socket[PATH_MAX * 2 + 16];
  if (socket_path == NULL || socket_path[0] == '\0') {
    snprintf(default_socket, sizeof default_socket, "%s/agent.sock", root);
    socket_path = default_socket;
  }
  int sock = connect_unix(socket_path);
  if (sock < 0) {
    /* no agent there (a dead one's socket), or not ours to use (EACCES) */
    if (errno == ECONNREFUSED || errno == ENOENT) tried_ = "noagent";
    run_cli(NULL, 0);
  }
  if (c.is_cli) return cli_call(sock, &c, root);
  return c.is_exec ? exec_call(sock, &c, root, helper) : run_call(sock, &c, root, helper);
}
