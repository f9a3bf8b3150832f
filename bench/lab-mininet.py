#!/usr/bin/python3
"""
Bench helper (npm run bench -- lab): the lab benchmark's topologies built with mininet's
Python API (Debian's mininet package), Linux bridges, no controller, no Open vSwitch.

  /usr/bin/python3 bench/lab-mininet.py star|chain N

star:  SingleSwitchTopo(N) on a LinuxBridge (mn --topo single,N --switch lxbr --controller none).
chain: N hosts, host i linked to host i+1 (interfaces hI-er, hI+1-el) with the /30
       10.128.0.0 + 4i, forwarding on, default route to the right neighbour and a route to the
       first link's /30 through the left one: the same as bench/lab-topo.ts (mininet's
       linear,N is a chain of N switches with a host each, one L2 segment: not the same work).

Prints one line `JSON {"up": s, "down": s, "ping": bool}` (seconds inside Python: building
and starting the network plus the chain's routes and sysctls; net.stop()). The ping (node 0
to the last star node, to node min(N-1, 60) of the chain) is not timed.
"""
import json
import sys
import time

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import SingleSwitchTopo


def ip4(n):
    return '.'.join(str((n >> s) & 255) for s in (24, 16, 8, 0))


CHAIN_BASE = (10 << 24) | (128 << 16)


def chain_link(i):
    base = CHAIN_BASE + 4 * i
    return ip4(base) + '/30', ip4(base + 1), ip4(base + 2)


def chain(n):
    net = Mininet(topo=None, switch=LinuxBridge, controller=None, build=False)
    hosts = [net.addHost('h%d' % i, ip=None) for i in range(n)]
    for i in range(n - 1):
        _, a, b = chain_link(i)
        net.addLink(hosts[i], hosts[i + 1], intfName1='h%d-er' % i, intfName2='h%d-el' % (i + 1),
                    params1={'ip': a + '/30'}, params2={'ip': b + '/30'})
    net.build()
    net.start()
    for i, h in enumerate(hosts):
        cmds = ['sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1']
        if i < n - 1:
            cmds.append('ip route add default via %s' % chain_link(i)[2])
        if i > 1:
            cmds.append('ip route add %s via %s' % (chain_link(0)[0], chain_link(i - 1)[1]))
        h.cmd('; '.join(cmds))
    t = min(n - 1, 60)
    return net, hosts[0], chain_link(t - 1)[2]


def star(n):
    net = Mininet(topo=SingleSwitchTopo(n), switch=LinuxBridge, controller=None)
    net.start()
    return net, net.hosts[0], net.hosts[-1].IP()


def main():
    shape, n = sys.argv[1], int(sys.argv[2])
    setLogLevel('error')
    t0 = time.monotonic()
    net, src, dst = (star if shape == 'star' else chain)(n)
    t1 = time.monotonic()
    out = src.cmd('ping -c 1 -W 2 -q %s' % dst)
    ok = ' 0% packet loss' in out
    t2 = time.monotonic()
    net.stop()
    t3 = time.monotonic()
    print('JSON ' + json.dumps({'up': t1 - t0, 'down': t3 - t2, 'ping': ok}), flush=True)


if __name__ == '__main__':
    main()
