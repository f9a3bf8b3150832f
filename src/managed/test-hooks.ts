/**
 * Layer: managed.
 *
 * Crash-test hook: with NSBOX_TEST_PAUSE=<point>, the process stops at that point, says so on
 * stderr and waits for ever, so an end-to-end test can SIGKILL it exactly there. Points:
 * `create:netns` (namespace made, record not ready), `create:names` (its /etc/netns directory
 * made too, record not ready), `iface-add:recorded` (row recorded,
 * nothing moved), `iface-add:kernel` (link moved and configured, record still 'adding'),
 * `connect:kernel` (network link made, record still 'adding'), `publish:recorded` (host ports
 * held, rows 'adding', no element yet), `publish:kernel` (elements in, rows still 'adding'),
 * `unpublish:recorded` (rows 'removing', elements still in), `unpublish:kernel` (elements out,
 * rows still 'removing'), `disconnect:kernel` (network link and leases gone, row still
 * 'removing'), `veth-pair:recorded` (both rows of a pair 'adding', no veth yet),
 * `veth-pair:kernel` (the pair born in both namespaces, rows still 'adding'), `veth-pair:one-end`
 * (one end configured and ready, the other still 'adding'), `network-create:recorded` (the
 * network's record inserted, marked creating, no bridge yet).
 */
export async function pausePoint(point: string): Promise<void> {
  if (process.env.NSBOX_TEST_PAUSE !== point) return;
  process.stderr.write(`nsbox: paused at ${point}\n`);
  await new Promise(() => { setInterval(() => {}, 1 << 30); });
}
