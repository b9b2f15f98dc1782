package org.unetmm.nic.udp;

import java.nio.ByteBuffer;

/**
 * The kernel's socket-call structs as the udp wire lays them out in native memory, for x86-64
 * Linux (LP64, little-endian; {@code <sys/socket.h>}, {@code <bits/uio.h>}): what
 * {@code sendmsg}/{@code recvmsg} take one of and {@code sendmmsg}/{@code recvmmsg} an array of.
 *
 * <pre>
 *  struct msghdr (56 bytes)                 struct iovec (16 bytes)
 *    0  void   *msg_name                      0  void  *iov_base
 *    8  socklen_t msg_namelen (+4 pad)        8  size_t iov_len
 *   16  struct iovec *msg_iov
 *   24  size_t msg_iovlen                   struct mmsghdr (64 bytes)
 *   32  void   *msg_control                   0  struct msghdr msg_hdr
 *   40  size_t msg_controllen                56  unsigned int msg_len: bytes sent or received
 *   48  int    msg_flags (+4 pad)            60  (4 bytes pad)
 *
 *  struct cmsghdr (16 bytes, then the data; CMSG_SPACE rounds the whole to 8)
 *    0  size_t cmsg_len    CMSG_LEN(data) = 16 + data bytes
 *    8  int    cmsg_level  SOL_UDP (17) for the UDP options below
 *   12  int    cmsg_type   UDP_SEGMENT (103): u16 gso_size, sent; UDP_GRO (104): int gso_size, received
 *   16  data
 * </pre>
 *
 * UDP GSO and GRO ({@code <linux/udp.h>}, {@code udp(7)}): {@code UDP_SEGMENT} as a socket option or a
 * send's cmsg asks the kernel to cut one send into datagrams of {@code gso_size} payload bytes (the last
 * may be shorter); {@code UDP_GRO} as a socket option lets the receive queue hold such runs whole, and a
 * receive then names their segment size in a {@code UDP_GRO} cmsg.
 *
 * <pre>
 *  struct sock_extended_err (16 bytes, {@code <linux/errqueue.h>}): the data of an IP_RECVERR cmsg
 *  (level SOL_IP (0), type IP_RECVERR (11)) read from the error queue; the kernel follows it with the
 *  offender's sockaddr_in (16 bytes, zero for a zero-copy notice), so the cmsg is CMSG_LEN(32) = 48
 *    0  u32 ee_errno   0 for a zero-copy notice
 *    4  u8  ee_origin  SO_EE_ORIGIN_ZEROCOPY (5)
 *    5  u8  ee_type
 *    6  u8  ee_code    SO_EE_CODE_ZEROCOPY_COPIED (1): the kernel copied the data after all
 *    7  u8  ee_pad
 *    8  u32 ee_info    the first send counter the notice covers
 *   12  u32 ee_data    the last one (inclusive)
 * </pre>
 *
 * {@code MSG_ZEROCOPY} ({@code Documentation/networking/msg_zerocopy.rst}): with {@code SO_ZEROCOPY}
 * set, a send flagged {@code MSG_ZEROCOPY} leaves the user pages in the skb instead of copying them,
 * and the kernel queues a notice on the socket's error queue once it no longer reads them, naming the
 * range of send counters it covers (each successful send takes the next one, from 0).
 */
final class SocketStructs {
    // struct msghdr
    static final int MSG_NAME = 0;
    static final int MSG_NAMELEN = 8;
    static final int MSG_IOV = 16;
    static final int MSG_IOVLEN = 24;
    static final int MSG_CONTROL = 32;
    static final int MSG_CONTROLLEN = 40;
    static final int MSG_FLAGS = 48;
    // struct mmsghdr
    static final int MSG_LEN = 56;
    static final int MMSGHDR_LENGTH = 64;
    // struct iovec
    static final int IOV_BASE = 0;
    static final int IOV_LEN = 8;
    static final int IOVEC_LENGTH = 16;
    /** UIO_MAXIOV: the most iovecs one msghdr takes. */
    static final int MAX_IOV = 1024;
    // struct cmsghdr
    static final int CMSG_LEN = 0;
    static final int CMSG_LEVEL = 8;
    static final int CMSG_TYPE = 12;
    static final int CMSG_DATA = 16;
    /** msg_flags bit: the control data did not fit the buffer given. */
    static final int MSG_CTRUNC = 0x8;
    static final int SOL_UDP = 17;
    static final int UDP_SEGMENT = 103;
    static final int UDP_GRO = 104;
    /** The kernel's UDP_MAX_SEGMENTS of the oldest kernels with GSO (newer ones take 128): most segments per send. */
    static final int MAX_SEGMENTS = 64;
    /** CMSG_SPACE(sizeof(u16)): a send's UDP_SEGMENT control data. */
    static final int SEGMENT_CONTROL_LENGTH = 24;
    /** Room for a receive's UDP_GRO control data, CMSG_SPACE(sizeof(int)) = 24, rounded up. */
    static final int GRO_CONTROL_LENGTH = 32;

    // struct sock_extended_err
    static final int EE_ERRNO = 0;
    static final int EE_ORIGIN = 4;
    static final int EE_CODE = 6;
    static final int EE_INFO = 8;
    static final int EE_DATA = 12;
    static final int SOL_IP = 0;
    static final int IP_RECVERR = 11;
    static final int SO_ZEROCOPY = 60;
    /** send flag: leave the user pages in the skb (no copy) and notify on the error queue when done. */
    static final int MSG_ZEROCOPY = 0x400_0000;
    /** receive flag: read the error queue instead of the data. */
    static final int MSG_ERRQUEUE = 0x2000;
    static final int SO_EE_ORIGIN_ZEROCOPY = 5;
    static final int SO_EE_CODE_ZEROCOPY_COPIED = 1;
    /** Room for a receive from the error queue: one IP_RECVERR cmsg, CMSG_SPACE(32) = 48, rounded up. */
    static final int ERRQUEUE_CONTROL_LENGTH = 64;

    private SocketStructs() {
    }

    /** Writes a msghdr at {@code at}: name, its length, the iovecs, no control data, flags 0. */
    static void msghdr(ByteBuffer memory, int at, long name, int nameLength, long iov, long iovCount) {
        memory.putLong(at + MSG_NAME, name);
        memory.putLong(at + MSG_NAMELEN, nameLength);
        memory.putLong(at + MSG_IOV, iov);
        memory.putLong(at + MSG_IOVLEN, iovCount);
        memory.putLong(at + MSG_CONTROL, 0);
        memory.putLong(at + MSG_CONTROLLEN, 0);
        memory.putLong(at + MSG_FLAGS, 0); // msg_flags and, in an mmsghdr, msg_len
    }

    /** Writes a UDP_SEGMENT cmsg of {@code segmentSize} at {@code at} (room: {@link #SEGMENT_CONTROL_LENGTH}). */
    static void segmentControl(ByteBuffer memory, int at, int segmentSize) {
        memory.putLong(at + CMSG_LEN, CMSG_DATA + 2);
        memory.putInt(at + CMSG_LEVEL, SOL_UDP);
        memory.putInt(at + CMSG_TYPE, UDP_SEGMENT);
        memory.putLong(at + CMSG_DATA, segmentSize & 0xFFFF); // u16, then padding
    }

    static void iovec(ByteBuffer memory, int at, long base, long length) {
        memory.putLong(at + IOV_BASE, base);
        memory.putLong(at + IOV_LEN, length);
    }
}
