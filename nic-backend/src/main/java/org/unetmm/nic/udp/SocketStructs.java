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
 * </pre>
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

    static void iovec(ByteBuffer memory, int at, long base, long length) {
        memory.putLong(at + IOV_BASE, base);
        memory.putLong(at + IOV_LEN, length);
    }
}
