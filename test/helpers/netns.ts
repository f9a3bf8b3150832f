/**
 * Test helper: throwaway network namespaces for integration tests. Names start with
 * `nsbt-` and live under /run/netns (a tmpfs of the throwaway host the runner made), so
 * `ip -n NAME` can inspect them. Every helper cleans up after itself.
 */
import { closeNetns, createNetns, destroyNetns, openNetns } from '../../src/sys/index.js';
import { NETNS_DIR } from './leaks.js';
import { randomName } from './names.js';

export interface TestNetns {
  name: string;
  path: string;
  fd: number;
  [Symbol.dispose](): void;
}

/** Create /run/netns/nsbt-<hex> with lo down as the kernel makes it, plus an open fd. */
export function makeNetns(name = randomName()): TestNetns {
  const path = `${NETNS_DIR}/${name}`;
  createNetns(path);
  const fd = openNetns(path);
  let disposed = false;
  return {
    name, path, fd,
    [Symbol.dispose]() {
      if (disposed) return;
      disposed = true;
      closeNetns(fd);
      destroyNetns(path);
    },
  };
}
