#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send the workload's application packets (see progs/workload.bpf.c).

udp_send.py DST COUNT [PAYLOAD_BYTES [FIRST_FLOW]]

Packet i carries flow = FIRST_FLOW + i (big-endian), seq = i (little-endian)
and len = PAYLOAD_BYTES; payload byte j is j & 0xff. Prints the sums the XDP program must count:
"pkts FLOW_SUM SEQ_SUM LEN_SUM".
"""
import socket
import struct
import sys

dst, count = sys.argv[1], int(sys.argv[2])
size = int(sys.argv[3]) if len(sys.argv) > 3 else 16
first = int(sys.argv[4]) if len(sys.argv) > 4 else 1
payload = bytes(j & 0xFF for j in range(size))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flow_sum = seq_sum = 0
for i in range(count):
    flow = (first + i) & 0xFFFFFFFF
    hdr = struct.pack("<B", 1) + struct.pack(">I", flow) + struct.pack("<QH", i, size)
    s.sendto(hdr + payload, (dst, 9999))
    flow_sum += flow
    seq_sum += i
print(count, flow_sum, seq_sum, count * size)
