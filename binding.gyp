{
  "targets": [
    {
      "target_name": "nsbox_native",
      "sources": ["native/nsbox.c", "native/napi-helpers.c", "native/netns-ops.c"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    },
    {
      "target_name": "nsbox-exec",
      "type": "executable",
      "sources": ["native/nsbox-exec.c"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror"],
      "defines": ["_GNU_SOURCE"]
    },
    {
      "target_name": "nsbox-cni",
      "type": "executable",
      "sources": ["native/cni-shim.c", "native/agent-frame.c"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror"],
      "defines": ["_GNU_SOURCE", "NSBOX_PACKAGE_DIR=\"<(module_root_dir)\"", "NSBOX_NODE=\"<!(node -p process.execPath)\""]
    },
    {
      "target_name": "nsbox-handoff",
      "type": "executable",
      "sources": ["native/handoff-client.c", "native/agent-frame.c"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror"],
      "defines": ["_GNU_SOURCE"]
    }
  ]
}
