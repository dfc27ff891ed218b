#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send the workload's application packets (see progs/workload.bpf.c).

udp_send.py DST COUNT [--size N] [--first F] [--then-size M --when FILE]

Packet i carries flow = F + i (big-endian), seq = i (little-endian) and
len = N, then N payload bytes (byte j is j & 0xff). COUNT 0 sends until
killed; with --when, packets grow to M payload bytes as soon as FILE exists.
Prints the sums the XDP program must count:
"pkts FLOW_SUM SEQ_SUM LEN_SUM HASH_SUM" (HASH_SUM modulo 2^64, xdp_flow only).
"""
import argparse
import os
import socket
import struct

ap = argparse.ArgumentParser()
ap.add_argument("dst")
ap.add_argument("count", type=int)
ap.add_argument("--size", type=int, default=16)
ap.add_argument("--first", type=int, default=1)
ap.add_argument("--then-size", type=int)
ap.add_argument("--when")
a = ap.parse_args()

M64 = (1 << 64) - 1


def rol64(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def flow_hash(flow):
    """workload.bpf.c's flow_hash()."""
    h = rol64(flow * 0x9E3779B185EBCA87 & M64, 31)
    h = rol64(h * 0xC2B2AE3D27D4EB4F & M64, 27)
    return h * 0x165667B19E3779F9 & M64


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
size = a.size
payload = bytes(j & 0xFF for j in range(size))
pkts = flow_sum = seq_sum = len_sum = hash_sum = 0
i = 0
while a.count == 0 or i < a.count:
    if a.when and size != a.then_size and i % 16 == 0 and os.path.exists(a.when):
        size = a.then_size
        payload = bytes(j & 0xFF for j in range(size))
    flow = (a.first + i) & 0xFFFFFFFF
    hdr = struct.pack("<B", 1) + struct.pack(">I", flow) + struct.pack("<QH", i, size)
    s.sendto(hdr + payload, (a.dst, 9999))
    pkts, flow_sum, seq_sum, len_sum = pkts + 1, flow_sum + flow, seq_sum + i, len_sum + size
    hash_sum = (hash_sum + flow_hash(flow)) & M64
    i += 1
print(pkts, flow_sum, seq_sum, len_sum, hash_sum)
