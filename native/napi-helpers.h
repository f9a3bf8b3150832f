/*
 * nsbox native addon — layer: native. N-API plumbing for the calls of nsbox.c: argument
 * readers and SysError construction.
 */
#ifndef NSBOX_NAPI_HELPERS_H
#define NSBOX_NAPI_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

#define PATH_MAX_LEN 4096

#define NAPI_CALL(env, call)                                                  \
  do {                                                                        \
    napi_status status_ = (call);                                             \
    if (status_ != napi_ok) {                                                 \
      const napi_extended_error_info *info_ = NULL;                           \
      napi_get_last_error_info((env), &info_);                                \
      bool pending_ = false;                                                  \
      napi_is_exception_pending((env), &pending_);                            \
      if (!pending_) {                                                        \
        napi_throw_error((env), "NSBOX_ERR_NAPI",                             \
                         info_ && info_->error_message ? info_->error_message \
                                                       : "N-API call failed"); \
      }                                                                       \
      return NULL;                                                            \
    }                                                                         \
  } while (0)

/* init(errorFactory): register (errno, syscall, path) => Error. */
napi_value js_init(napi_env env, napi_callback_info info);

/* SysError(errno, syscall, path) built by the registered factory, or NULL (an exception is
 * then pending). */
napi_value make_errno_error(napi_env env, int err, const char *syscall, const char *path);
/* Throw make_errno_error(...); returns NULL for `return throw_errno(...)`. */
napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path);

bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
bool get_int(napi_env env, napi_value v, int32_t *out);
/* Copy a JS string into buf[size] as UTF-8 + NUL; too long is a RangeError, never a cut. */
bool get_string(napi_env env, napi_value v, char *buf, size_t size, size_t *out_len, const char *what);
bool get_path(napi_env env, napi_value v, char *buf);
/* A JS array of strings as a malloc'd NULL-terminated vector of malloc'd UTF-8 strings (for
 * execve), or NULL with an exception pending. Free with free_string_array. */
char **get_string_array(napi_env env, napi_value v, const char *what);
void free_string_array(char **strings);
bool get_bytes(napi_env env, napi_value v, void **data, size_t *len);
napi_value make_int(napi_env env, int64_t v);
napi_value undefined(napi_env env);
/* [a, b, ...] of n integers. */
napi_value make_int_array(napi_env env, const int64_t *values, uint32_t n);

#endif
