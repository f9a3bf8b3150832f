/**
 * Layer: sys. The ONLY module that loads the native addon (native/nsbox.c).
 *
 * Declares the raw signatures of the addon and hands it the SysError factory once, so
 * every failed syscall arrives as a SysError with a glibc errno name. Loading the addon (at
 * the first native call) also starts libuv's thread pool (see native/nsbox.c), before any
 * netns window can open.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NsboxError, SysError } from '../errors.js';
import { packageRoot } from '../package-root.js';

/** Opaque uv_poll handle owned by the addon. */
export type PollHandle = { readonly __brand: 'PollHandle' };

export interface NativeBinding {
  init(makeError: (errno: number, syscall: string, path?: string) => Error): void;
  /**
   * [fd of the new namespace, fd of a bound netlink socket made inside it (-1 when
   * `netlinkProtocol` < 0), its port id]; both close-on-exec.
   */
  createNetns(path: string, netlinkProtocol: number, recvBufferBytes: number): [number, number, number];
  /** Returns [umount2 errno, unlink errno]; 0 means that step succeeded. */
  destroyNetns(path: string): [number, number];
  bindNetns(source: string, path: string): void;
  openNetns(path: string): number;
  nsType(fd: number): number;
  /** [fd's st_dev, st_ino, path's st_dev, st_ino], or null when either stat fails. */
  fileIds(fd: number, path: string): [number, number, number, number] | null;
  /** flock(2); false when LOCK_NB was given and someone else holds the lock. */
  flock(fd: number, operation: number): boolean;
  withNetns<T>(fd: number, fn: () => T): T;
  socketIn(nsFd: number, domain: number, type: number, protocol: number): number;
  /** A bound netlink socket made in the namespace (-1: the caller's): [fd, port id]. */
  openNetlink(nsFd: number, protocol: number, recvBufferBytes: number): [number, number];
  readFileIn(nsFd: number, path: string, maxBytes: number): string;
  writeFileIn(nsFd: number, path: string, text: string): void;
  /** A detached private procfs mount: fsopen("proc") + fsmount; the fd is close-on-exec. */
  openProcfs(): number;
  bind(fd: number, sockaddr: Uint8Array): void;
  sockName(fd: number, out: Uint8Array): number;
  setsockoptInt(fd: number, level: number, name: number, value: number): void;
  setsockoptBytes(fd: number, level: number, name: number, value: Uint8Array): void;
  /** Bytes sent, or -1 when the socket would block. */
  sendTo(fd: number, data: Uint8Array, sockaddr: Uint8Array | null): number;
  /** Bytes received (the real datagram size with MSG_TRUNC), or -1 when nothing is queued. */
  recv(fd: number, buffer: Uint8Array, flags: number): number;
  close(fd: number): void;
  /** execve in place of this process; returns only by throwing (the exec failed). */
  execReplace(file: string, argv: readonly string[], env: readonly string[]): void;
  pollStart(fd: number, events: number, onReady: (status: number, events: number) => void): PollHandle;
  pollRef(handle: PollHandle, ref: boolean): void;
  pollStop(handle: PollHandle): void;
  /** Present only when the process started with NSBOX_TEST_HOOKS=1. */
  testFailNextRestore?: () => void;
}

function locateAddon(): string {
  const path = join(packageRoot(), 'build/Release/nsbox_native.node');
  if (existsSync(path)) return path;
  throw new NsboxError(
    'nsbox: the native addon build/Release/nsbox_native.node is missing; run `npm ci` or `npm run build` (needs a C compiler and Node headers)',
    'NSBOX_ERR_NATIVE',
  );
}

const require = createRequire(import.meta.url);

let loaded: NativeBinding | undefined;

/**
 * The addon, loaded and initialised with the SysError factory on first use: a command that
 * makes no system call of its own (`nsbox ls`, `inspect`) does not pay its dlopen and init
 * (~1 ms). Its first use is a call from the main thread in its own namespace (every netns
 * window opens inside a native call), so the thread pool it starts is born there.
 */
export function native(): NativeBinding {
  if (loaded === undefined) {
    const addon = require(locateAddon()) as NativeBinding;
    addon.init((errno, syscall, path) => new SysError(errno, syscall, path));
    loaded = addon;
  }
  return loaded;
}
