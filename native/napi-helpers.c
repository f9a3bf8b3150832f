/*
 * nsbox native addon — layer: native. See napi-helpers.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "napi-helpers.h"

static napi_ref error_factory_ref = NULL;

napi_value js_init(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  if (error_factory_ref != NULL) napi_delete_reference(env, error_factory_ref);
  NAPI_CALL(env, napi_create_reference(env, argv[0], 1, &error_factory_ref));
  return undefined(env);
}

napi_value make_errno_error(napi_env env, int err, const char *syscall, const char *path) {
  napi_value factory, global, argv[3], result;
  if (error_factory_ref == NULL ||
      napi_get_reference_value(env, error_factory_ref, &factory) != napi_ok) {
    napi_throw_error(env, "NSBOX_ERR_NATIVE", "nsbox native addon used before init()");
    return NULL;
  }
  napi_get_global(env, &global);
  napi_create_int32(env, err, &argv[0]);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &argv[1]);
  if (path != NULL) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &argv[2]);
  } else {
    napi_get_undefined(env, &argv[2]);
  }
  if (napi_call_function(env, global, factory, 3, argv, &result) != napi_ok) return NULL;
  return result;
}

napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_value error = make_errno_error(env, err, syscall, path);
  if (error != NULL) napi_throw(env, error);
  return NULL;
}

bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, "NSBOX_ERR_NATIVE_ARGS", "wrong number of arguments");
    return false;
  }
  return true;
}

bool get_int(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "NSBOX_ERR_NATIVE_ARGS", "expected an integer");
    return false;
  }
  return true;
}

/* The length is checked before copying: N-API would otherwise stop short of a multi-byte
 * character and truncate silently. */
bool get_string(napi_env env, napi_value v, char *buf, size_t size, size_t *out_len, const char *what) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, "NSBOX_ERR_NATIVE_ARGS", what);
    return false;
  }
  if (len >= size) {
    napi_throw_range_error(env, "NSBOX_ERR_NATIVE_ARGS", "string too long");
    return false;
  }
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) return false;
  if (out_len != NULL) *out_len = len;
  return true;
}

bool get_path(napi_env env, napi_value v, char *buf) {
  return get_string(env, v, buf, PATH_MAX_LEN, NULL, "expected a string path");
}

char **get_string_array(napi_env env, napi_value v, const char *what) {
  uint32_t n = 0;
  if (napi_get_array_length(env, v, &n) != napi_ok) {
    napi_throw_type_error(env, "NSBOX_ERR_NATIVE_ARGS", what);
    return NULL;
  }
  char **out = calloc((size_t)n + 1, sizeof *out);
  if (out == NULL) {
    throw_errno(env, ENOMEM, "calloc", NULL);
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    size_t len = 0;
    if (napi_get_element(env, v, i, &item) != napi_ok ||
        napi_get_value_string_utf8(env, item, NULL, 0, &len) != napi_ok) {
      free_string_array(out);
      napi_throw_type_error(env, "NSBOX_ERR_NATIVE_ARGS", what);
      return NULL;
    }
    out[i] = malloc(len + 1);
    if (out[i] == NULL) {
      free_string_array(out);
      throw_errno(env, ENOMEM, "malloc", NULL);
      return NULL;
    }
    if (napi_get_value_string_utf8(env, item, out[i], len + 1, &len) != napi_ok) {
      free_string_array(out);
      napi_throw_type_error(env, "NSBOX_ERR_NATIVE_ARGS", what);
      return NULL;
    }
  }
  return out;
}

void free_string_array(char **strings) {
  if (strings == NULL) return;
  for (char **s = strings; *s != NULL; s++) free(*s);
  free(strings);
}

bool get_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_typed = false;
  napi_is_typedarray(env, v, &is_typed);
  if (is_typed) {
    napi_typedarray_type type;
    size_t length, offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) == napi_ok &&
        type == napi_uint8_array) {
      *len = length;
      return true;
    }
  }
  napi_throw_type_error(env, "NSBOX_ERR_NATIVE_ARGS", "expected a Uint8Array");
  return false;
}

napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

napi_value undefined(napi_env env) {
  napi_value out;
  napi_get_undefined(env, &out);
  return out;
}

napi_value make_int_array(napi_env env, const int64_t *values, uint32_t n) {
  napi_value out;
  NAPI_CALL(env, napi_create_array_with_length(env, n, &out));
  for (uint32_t i = 0; i < n; i++) napi_set_element(env, out, i, make_int(env, values[i]));
  return out;
}
