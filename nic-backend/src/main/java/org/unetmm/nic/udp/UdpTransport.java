package org.unetmm.nic.udp;

import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Enumeration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32C;
import org.unetmm.Nic;
import org.unetmm.TransportException;
import org.unetmm.internal.BufferPayload;
import org.unetmm.internal.Counters;
import org.unetmm.pinning.KernelException;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.Errno;
import org.unetmm.pinning.internal.Libc;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.Inbound;
import org.unetmm.spi.TransmitListener;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.Placement;
import org.unetmm.spi.SourceKey;
import org.unetmm.spi.Transport;

/**
 * The UDP wire: NICs in other processes and on other hosts, one non-blocking IPv4 UDP socket per
 * NIC, bound to {@code udp://host:port} (port 0 = ephemeral; {@link #address()} reports the
 * port the kernel chose). One {@link WireFrame} is one datagram. Channel addresses are
 * {@code udp://host:port/tag}.
 *
 * <p><b>Send: gather, no copy in Java.</b> {@link #transmit} encodes the wire header into a
 * native buffer and calls {@code sendmsg(2)} with one iovec for the header and one per piece of
 * {@link PayloadSource#gather}: addresses in the sender's translated pages (pinned path) or its
 * fixed segment, so the kernel copies the payload straight from user memory into the datagram.
 * {@code EAGAIN}/{@code ENOBUFS} return false (back-pressure: the NIC tries the fragment again on
 * its next progress). Errors a datagram socket reports for good (unreachable, refused, firewall,
 * too long) lose the frame, as UDP does, and are counted; the send still completes, since an
 * unreliable channel completes when the last byte is handed to the wire.
 *
 * <p><b>Receive: the header is checked before a byte reaches user memory.</b> Two ways, chosen per
 * datagram by the size of the recent ones (as a NIC driver's {@code rx_copybreak}):
 * <ul>
 *   <li><b>direct placement</b> (large fragments): {@link #poll} peeks at the next datagram's first
 *       {@link WireFrame#HEADER_LENGTH} bytes ({@code recvmsg} with {@code MSG_PEEK|MSG_TRUNC}, which also yields the
 *       datagram's real length and its sender) and checks every field. A valid frame goes to {@link Inbound#claim}; if the NIC wants it, one
 *       {@code recvmsg(2)} scatters the datagram into [header buffer, {@code placement.length} bytes of the
 *       posted buffer, a scratch buffer for any rest (the part of a message longer than the posted buffer)] and
 *       the claim is committed; otherwise the datagram is discarded ({@code recv} of nothing with
 *       {@code MSG_TRUNC}). Two system calls, no copy in Java.</li>
 *   <li><b>copy</b> (fragments of at most {@link UdpConfig#copyBreak()} bytes): one {@code recvmsg} takes
 *       the whole datagram, and its sender, into the receive area, [header buffer | scratch]; a valid frame is offered with
 *       {@link Inbound#onFragment}, and the NIC copies its payload from the scratch buffer into the posted
 *       buffer. One system call and a small copy, cheaper than a second system call.</li>
 * </ul>
 * The wire starts copying; a fragment larger than the copy break switches it to direct placement (that
 * one is copied, being in scratch already), and {@value #SMALL_STREAK} small datagrams in a row switch
 * it back. Either way a frame that fails a check is discarded and counted by {@link WireDropReason},
 * having been written nowhere but the header or scratch buffer.
 *
 * <p><b>Who sent it.</b> Both receives name the sender's {@code sockaddr} ({@code msg_name}), which
 * becomes the frame's {@link FrameHeader#source} key; a route holds the key its peer's frames arrive
 * with, so the NIC takes a connected channel's frames from its peer only. A route to the wildcard
 * 0.0.0.0 reaches this host: Linux sends it to the socket's own bound address, or to 127.0.0.1 when
 * that is the wildcard too ({@code ip_route_output_key_hash_rcu}), and the peer's frames come back from
 * there, so that is the key such a route holds.
 *
 * <p><b>MTU.</b> Bound to a loopback address: the largest datagram, {@link WireFrame#MAX_FRAGMENT}
 * payload bytes. Otherwise the interface MTU of the bound address (the smallest of the up
 * interfaces for 0.0.0.0) minus 20 (IP) + 8 (UDP) + 72 (wire header), so a fragment never needs
 * IP fragmentation. {@code NicConfig.mtu} overrides it.
 *
 * <p><b>Native memory</b>, allocated once per transport and laid out for x86-64 Linux (LP64,
 * little-endian; {@code <sys/socket.h>}, {@code <bits/uio.h>}, {@code <netinet/in.h>},
 * {@code <poll.h>}):
 *
 * <pre>
 *  struct msghdr (56 bytes)                 struct iovec (16 bytes)
 *    0  void   *msg_name                      0  void  *iov_base
 *    8  socklen_t msg_namelen (+4 pad)        8  size_t iov_len
 *   16  struct iovec *msg_iov
 *   24  size_t msg_iovlen                   struct sockaddr_in (16 bytes)
 *   32  void   *msg_control                   0  sa_family_t sin_family  (AF_INET, host order)
 *   40  size_t msg_controllen                 2  in_port_t   sin_port    (network order)
 *   48  int    msg_flags (+4 pad)             4  struct in_addr sin_addr (network order)
 *                                             8  unsigned char sin_zero[8]
 *  struct pollfd (8 bytes): 0 int fd, 4 short events, 6 short revents
 *  struct timespec (16 bytes): 0 time_t tv_sec, 8 long tv_nsec
 *
 *  the block (one page-aligned allocation)
 *      0  send msghdr      name = destination sockaddr, iov = send iovecs
 *     64  place msghdr     no name (the peek named the sender), iov = place iovecs
 *    128  destination sockaddr_in, rewritten when the route changes
 *    144  bound sockaddr_in and 160 its socklen_t, for getsockname
 *    168  pollfd, 176 timespec: the idle wait
 *    192  receive msghdr   name = source sockaddr, iov = receive iovec: the peek and the copying recv
 *    248  receive iovec    [receive area, 72 to peek at a header or the whole area to copy]
 *    264  source sockaddr  (32 bytes, room for a sockaddr_in6): the sender of the datagram just received
 *    320  send header      (72 bytes of wire header)
 *    400  place iovec[3]   [receive header, 72] [placement, placement.length] [scratch, rest]
 *    448  send iovec[1024] [send header, 72] then up to 1023 payload pieces (UIO_MAXIOV = 1024)
 *  16832  end
 *
 *  the receive area (its own allocation), where every datagram is read:
 *      0  receive header   (72 bytes; peek, place and copy all land the header here)
 *     72  scratch          (64 KiB: a copied frame's payload, or the discarded rest of a placed one)
 *
 *  the staging buffer (64 KiB, allocated on first use): the copy of a fragment whose pieces do not
 *  fit 1023 iovecs
 * </pre>
 *
 * <p>Threading: as the SPI says, one NIC thread at a time; the counters are single-writer and may
 * be read from any thread. Not here (yet): {@code MSG_ZEROCOPY}. The SPI's {@code transmit}
 * returns when the payload has been read, and the NIC may release the pages then; zero-copy
 * sends would keep the pages in the kernel until the error-queue notification, which needs the
 * NIC to hold their pins past {@code transmit}. On loopback and veth the kernel copies anyway.
 */
public final class UdpTransport implements Transport {
    // struct msghdr
    private static final int MSG_NAME = 0;
    private static final int MSG_NAMELEN = 8;
    private static final int MSG_IOV = 16;
    private static final int MSG_IOVLEN = 24;
    private static final int MSG_CONTROL = 32;
    private static final int MSG_CONTROLLEN = 40;
    private static final int MSG_FLAGS = 48;
    // struct iovec
    private static final int IOV_BASE = 0;
    private static final int IOV_LEN = 8;
    private static final int IOVEC_LENGTH = 16;
    /** UIO_MAXIOV: the most iovecs one sendmsg takes. */
    private static final int MAX_IOV = 1024;
    private static final int MAX_GATHER = MAX_IOV - 1;
    // the block
    private static final int SEND_MSGHDR_OFFSET = 0;
    private static final int PLACE_MSGHDR_OFFSET = 64;
    private static final int DESTINATION_OFFSET = 128;
    private static final int BOUND_ADDRESS_OFFSET = 144;
    private static final int BOUND_LENGTH_OFFSET = 160;
    private static final int POLLFD_OFFSET = 168;
    private static final int TIMESPEC_OFFSET = 176;
    private static final int RECEIVE_MSGHDR_OFFSET = 192;
    private static final int RECEIVE_IOV_OFFSET = 248;
    private static final int SOURCE_OFFSET = 264;
    private static final int SOURCE_LENGTH = 32;
    private static final int SEND_HEADER_OFFSET = 320;
    private static final int PLACE_IOV_OFFSET = 400;
    private static final int SEND_IOV_OFFSET = 448;
    private static final int BLOCK_LENGTH = SEND_IOV_OFFSET + MAX_IOV * IOVEC_LENGTH;
    private static final int SOCKADDR_IN_LENGTH = 16;
    private static final int AF_INET6 = 10;
    // the receive area
    private static final int RECEIVE_HEADER_OFFSET = 0;
    private static final int SCRATCH_OFFSET = WireFrame.HEADER_LENGTH;
    private static final int SCRATCH_LENGTH = 64 * 1024;
    private static final int AREA_LENGTH = SCRATCH_OFFSET + SCRATCH_LENGTH;
    private static final int IP_UDP_OVERHEAD = 28;
    /** 127.0.0.1 as UdpAddress holds an IPv4 address (big-endian int). */
    private static final int LOOPBACK_IP = 0x7F00_0001;
    /** Small datagrams in a row, seen while placing directly, after which the wire goes back to copying. */
    static final int SMALL_STREAK = 16;

    private static final ConcurrentHashMap<String, UdpTransport> OPEN = new ConcurrentHashMap<>();

    private final UdpConfig config;
    private final int fd;
    private final NativeBuffer block;
    private final NativeBuffer area;
    private final ByteBuffer memory;
    private final ByteBuffer sendHeader;
    private final ByteBuffer receiveHeader;
    private final ByteBuffer scratch;
    private final long blockAddress;
    private final long areaAddress;
    private final long scratchAddress;
    private final BufferPayload scratchPayload;
    private NativeBuffer staging;
    private final UdpAddress bound;
    private final String address;
    private final int mtu;
    private final int receiveBufferBytes;
    private final int sendBufferBytes;
    private final CRC32C crc = new CRC32C();
    private final FrameHeader frame = new FrameHeader();
    private final Placement placement = new Placement();
    private final long[] gatherAddresses = new long[MAX_GATHER];
    private final int[] gatherLengths = new int[MAX_GATHER];
    private long destinationWord;
    /** Receiving by copy (one recv) rather than by direct placement (a peek, then recvmsg). */
    private boolean copying;
    private int smallStreak;
    /** A copied frame the NIC could not take yet (its engine was busy): offered again before anything else. */
    private boolean held;
    /** The frame just received was the last of its message. */
    private boolean endsMessage;
    private Inbound inbound;
    private volatile boolean closed;

    // counters: written by the NIC thread that drives this wire (transmit, poll), read by stats() anywhere
    private static final int DATAGRAMS_SENT = 0;
    private static final int BYTES_SENT = 1;
    private static final int SEND_BACK_PRESSURED = 2;
    private static final int SENDS_LOST = 3;
    private static final int GATHER_COPIES = 4;
    private static final int DATAGRAMS_RECEIVED = 5;
    private static final int BYTES_RECEIVED = 6;
    private static final int FRAMES_PLACED = 7;
    private static final int FRAMES_COPIED = 8;
    private static final int FRAMES_DECLINED = 9;
    /** The first of one slot per {@link WireDropReason}, by ordinal. */
    private static final int DROPPED = 10;
    private final Counters counters = new Counters(DROPPED + WireDropReason.values().length);

    /** A peer NIC, resolved once when a channel connects: where to send, and the key its frames arrive with. */
    private record UdpRoute(String address, long sockaddrWord, SourceKey sourceKey) implements Route {
    }

    /** Opens the socket, sizes its buffers and binds it; fails at once, naming the fix. */
    public UdpTransport(UdpConfig config) {
        this.config = config;
        int socket;
        try {
            socket = Libc.udpSocket();
        } catch (KernelException e) {
            throw opening(config, e);
        }
        NativeBuffer blockMemory = null;
        NativeBuffer areaMemory = null;
        try {
            this.receiveBufferBytes = sizeBuffer(socket, Libc.SO_RCVBUF, Libc.SO_RCVBUFFORCE, config.receiveBufferBytes());
            this.sendBufferBytes = sizeBuffer(socket, Libc.SO_SNDBUF, Libc.SO_SNDBUFFORCE, config.sendBufferBytes());
            if (config.busyPollMicros() > 0 && !Libc.trySetsockopt(socket, Libc.SOL_SOCKET, Libc.SO_BUSY_POLL,
                    config.busyPollMicros())) {
                throw new IllegalArgumentException("busypoll=" + config.busyPollMicros() + " was refused ("
                        + Errno.name(Libc.lastErrno()) + "): raising SO_BUSY_POLL above net.core.busy_read needs"
                        + " CAP_NET_ADMIN; drop the key or run with the capability");
            }
            Libc.bind(socket, config.bind().sockaddr(), config.bind().toString());
            blockMemory = NativeMemory.allocate(BLOCK_LENGTH);
            areaMemory = NativeMemory.allocate(AREA_LENGTH);
        } catch (RuntimeException e) {
            closeQuietly(socket, blockMemory, areaMemory, null);
            throw opening(config, e);
        }
        this.fd = socket;
        this.block = blockMemory;
        this.area = areaMemory;
        this.memory = block.buffer().order(ByteOrder.LITTLE_ENDIAN);
        this.blockAddress = block.address();
        this.areaAddress = area.address();
        this.scratchAddress = areaAddress + SCRATCH_OFFSET;
        this.sendHeader = memory.slice(SEND_HEADER_OFFSET, WireFrame.HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer areaBuffer = area.buffer().order(ByteOrder.LITTLE_ENDIAN);
        this.receiveHeader = areaBuffer.slice(RECEIVE_HEADER_OFFSET, WireFrame.HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        this.scratch = areaBuffer.slice(SCRATCH_OFFSET, SCRATCH_LENGTH);
        this.scratchPayload = new BufferPayload(scratch); // the payload of a copied frame: the NIC pulls it in
        layOut();
        try {
            memory.putInt(BOUND_LENGTH_OFFSET, SOCKADDR_IN_LENGTH);
            Libc.getsockname(fd, blockAddress + BOUND_ADDRESS_OFFSET, blockAddress + BOUND_LENGTH_OFFSET);
        } catch (RuntimeException e) {
            closeQuietly(fd, block, area, null);
            throw opening(config, e);
        }
        this.bound = UdpAddress.fromSockaddrWord(memory.getLong(BOUND_ADDRESS_OFFSET));
        this.address = bound.toString();
        this.mtu = defaultMtu(bound);
        this.copying = config.copyBreak() > 0;
        OPEN.put(address, this);
    }

    /** The udp transport behind {@code nic}, for its statistics. */
    public static UdpTransport of(Nic nic) {
        UdpTransport transport = OPEN.get(nic.transportAddress());
        if (transport == null) {
            throw new IllegalArgumentException("NIC at " + nic.transportAddress() + " has no open udp transport in this"
                    + " JVM: open it with NicConfig transport udp://host:port");
        }
        return transport;
    }

    /** Asks for {@code bytes}; if the kernel caps it at the sysctl maximum, forces it where the process may. */
    private static int sizeBuffer(int fd, int option, int forceOption, int bytes) {
        Libc.setsockopt(fd, Libc.SOL_SOCKET, option, bytes);
        int effective = Libc.getsockoptInt(fd, Libc.SOL_SOCKET, option);
        if (effective < 2L * bytes && Libc.trySetsockopt(fd, Libc.SOL_SOCKET, forceOption, bytes)) {
            effective = Libc.getsockoptInt(fd, Libc.SOL_SOCKET, option);
        }
        return effective;
    }

    /** Writes the parts of the block that never change: msghdrs, their iovec pointers, the header iovecs. */
    private void layOut() {
        long base = blockAddress;
        msghdr(SEND_MSGHDR_OFFSET, base + DESTINATION_OFFSET, SOCKADDR_IN_LENGTH, base + SEND_IOV_OFFSET, 1);
        msghdr(PLACE_MSGHDR_OFFSET, 0, 0, base + PLACE_IOV_OFFSET, 3);
        msghdr(RECEIVE_MSGHDR_OFFSET, base + SOURCE_OFFSET, SOURCE_LENGTH, base + RECEIVE_IOV_OFFSET, 1);
        iovec(RECEIVE_IOV_OFFSET, areaAddress, AREA_LENGTH);
        iovec(SEND_IOV_OFFSET, base + SEND_HEADER_OFFSET, WireFrame.HEADER_LENGTH);
        iovec(PLACE_IOV_OFFSET, areaAddress + RECEIVE_HEADER_OFFSET, WireFrame.HEADER_LENGTH);
        memory.putInt(POLLFD_OFFSET, fd);
        memory.putShort(POLLFD_OFFSET + 4, (short) Libc.POLLIN);
        long waitNanos = config.waitMicros() * 1000L;
        memory.putLong(TIMESPEC_OFFSET, waitNanos / 1_000_000_000L);
        memory.putLong(TIMESPEC_OFFSET + 8, waitNanos % 1_000_000_000L);
    }

    private void msghdr(int at, long name, int nameLength, long iov, int iovCount) {
        memory.putLong(at + MSG_NAME, name);
        memory.putLong(at + MSG_NAMELEN, nameLength);
        memory.putLong(at + MSG_IOV, iov);
        memory.putLong(at + MSG_IOVLEN, iovCount);
        memory.putLong(at + MSG_CONTROL, 0);
        memory.putLong(at + MSG_CONTROLLEN, 0);
        memory.putLong(at + MSG_FLAGS, 0);
    }

    private void iovec(int at, long base, long length) {
        memory.putLong(at + IOV_BASE, base);
        memory.putLong(at + IOV_LEN, length);
    }

    /** The largest fragment payload that crosses the bound interface in one IP packet. */
    static int defaultMtu(UdpAddress bound) {
        if (bound.isLoopback()) {
            return WireFrame.MAX_FRAGMENT;
        }
        int linkMtu = 0;
        try {
            if (!bound.isWildcard()) {
                NetworkInterface nif = NetworkInterface.getByInetAddress(bound.inetAddress());
                linkMtu = nif == null ? 0 : nif.getMTU();
            } else {
                int loopbackMtu = 0;
                for (Enumeration<NetworkInterface> e = NetworkInterface.getNetworkInterfaces(); e.hasMoreElements(); ) {
                    NetworkInterface nif = e.nextElement();
                    if (!nif.isUp() || nif.getMTU() <= 0) {
                        continue;
                    }
                    if (nif.isLoopback()) {
                        loopbackMtu = nif.getMTU();
                    } else {
                        linkMtu = linkMtu == 0 ? nif.getMTU() : Math.min(linkMtu, nif.getMTU());
                    }
                }
                if (linkMtu == 0) {
                    linkMtu = loopbackMtu;
                }
            }
        } catch (SocketException e) {
            linkMtu = 0;
        }
        if (linkMtu <= 0) {
            linkMtu = 1500;
        }
        return Math.max(64, Math.min(WireFrame.MAX_FRAGMENT, linkMtu - IP_UDP_OVERHEAD - WireFrame.HEADER_LENGTH));
    }

    public UdpConfig config() {
        return config;
    }

    @Override
    public String address() {
        return address;
    }

    /** The address the socket is bound to (the real port when port 0 was asked for). */
    public UdpAddress boundAddress() {
        return bound;
    }

    @Override
    public int mtu() {
        return mtu;
    }

    @Override
    public void start(Inbound inbound, TransmitListener transmitted) {
        this.inbound = inbound;
    }

    @Override
    public Route route(String remoteAddress) {
        UdpAddress peer = UdpAddress.parse(remoteAddress, false);
        UdpAddress from = !peer.isWildcard() ? peer : new UdpAddress(bound.isWildcard() ? LOOPBACK_IP : bound.ip(), peer.port());
        return new UdpRoute(peer.toString(), peer.sockaddrWord(), ipv4Key(from.sockaddrWord(), new SourceKey()));
    }

    // ---- send ----------------------------------------------------------------------------------

    @Override
    public boolean transmit(Route route, FrameHeader header, PayloadSource payload) {
        if (closed) {
            counters.increment(SENDS_LOST);
            return true;
        }
        long word = ((UdpRoute) route).sockaddrWord();
        if (word != destinationWord) {
            memory.putLong(DESTINATION_OFFSET, word);
            memory.putLong(DESTINATION_OFFSET + 8, 0);
            destinationWord = word;
        }
        WireFrame.encode(header, sendHeader, crc);
        int pieces;
        try {
            pieces = payload.gather(gatherAddresses, gatherLengths, MAX_GATHER);
            if (pieces < 0) {
                if (staging == null) {
                    staging = NativeMemory.allocate(SCRATCH_LENGTH);
                }
                payload.copyTo(0, staging.buffer(), 0, header.fragmentLength);
                gatherAddresses[0] = staging.address();
                gatherLengths[0] = header.fragmentLength;
                pieces = 1;
                counters.increment(GATHER_COPIES);
            }
        } catch (RuntimeException e) {
            return true; // the NIC kept the failure (a page it could not translate) and fails the send with it
        }
        int at = SEND_IOV_OFFSET + IOVEC_LENGTH;
        for (int i = 0; i < pieces; i++, at += IOVEC_LENGTH) {
            memory.putLong(at + IOV_BASE, gatherAddresses[i]);
            memory.putLong(at + IOV_LEN, gatherLengths[i]);
        }
        memory.putLong(SEND_MSGHDR_OFFSET + MSG_IOVLEN, 1 + pieces);
        long sent = Libc.sendmsg(fd, blockAddress + SEND_MSGHDR_OFFSET, Libc.MSG_DONTWAIT);
        if (sent >= 0) {
            counters.increment(DATAGRAMS_SENT);
            counters.add(BYTES_SENT, sent);
            return true;
        }
        if (sent == -Errno.EAGAIN || sent == -Errno.ENOBUFS || sent == -Errno.EINTR) {
            counters.increment(SEND_BACK_PRESSURED);
            return false;
        }
        counters.increment(SENDS_LOST);
        return true;
    }

    // ---- receive -------------------------------------------------------------------------------

    @Override
    public int poll() {
        if (closed) {
            return 0;
        }
        if (held && !offerHeld()) {
            return 0;
        }
        int done = 0;
        int batch = config.receiveBatch();
        while (done < batch) {
            memory.putLong(RECEIVE_IOV_OFFSET + IOV_LEN, copying ? AREA_LENGTH : WireFrame.HEADER_LENGTH);
            memory.putInt(RECEIVE_MSGHDR_OFFSET + MSG_NAMELEN, SOURCE_LENGTH);
            long length = Libc.recvmsg(fd, blockAddress + RECEIVE_MSGHDR_OFFSET,
                    copying ? Libc.MSG_TRUNC | Libc.MSG_DONTWAIT : Libc.MSG_PEEK | Libc.MSG_TRUNC | Libc.MSG_DONTWAIT);
            if (length < 0) {
                if (length == -Errno.EAGAIN) {
                    break;
                }
                continue; // EINTR, or a refusal reported by ICMP for an earlier send: nothing to receive
            }
            done++;
            counters.increment(DATAGRAMS_RECEIVED);
            counters.add(BYTES_RECEIVED, length);
            endsMessage = false;
            if (copying) {
                if (!copied((int) length)) {
                    break; // held for the NIC
                }
            } else {
                place((int) length);
            }
            if (endsMessage) {
                break; // let the caller see the completion now rather than after one more system call
            }
        }
        if (done == 0 && config.waitMicros() > 0) {
            Libc.ppoll(blockAddress + POLLFD_OFFSET, 1, blockAddress + TIMESPEC_OFFSET);
        }
        return done;
    }

    /**
     * A datagram of {@code length} bytes has been received whole into [header, scratch]: checks it and
     * offers it to the NIC, which copies the payload into the posted buffer. Returns false when the NIC
     * was busy and the frame is held.
     */
    private boolean copied(int length) {
        WireDropReason bad = WireFrame.decode(receiveHeader, length, frame, crc);
        if (bad != null) {
            count(bad);
            return true;
        }
        readSource(frame.source);
        endsMessage = frame.fragmentOffset + frame.fragmentLength == frame.messageLength;
        if (frame.fragmentLength > config.copyBreak()) {
            copying = false; // large frames are arriving: place them directly from the next one on
            smallStreak = 0;
        }
        scratchPayload.length(frame.fragmentLength);
        held = true;
        return offerHeld();
    }

    private boolean offerHeld() {
        Inbound nic = inbound;
        if (nic != null && !nic.onFragment(frame, scratchPayload)) {
            return false;
        }
        held = false;
        counters.increment(FRAMES_COPIED);
        return true;
    }

    /**
     * The datagram at the head of the queue is {@code length} bytes and its header has been peeked:
     * checks the header, asks the NIC where the payload goes, and receives it straight there.
     */
    private void place(int length) {
        if (length - WireFrame.HEADER_LENGTH <= config.copyBreak()) {
            if (++smallStreak >= SMALL_STREAK) {
                copying = true;
            }
        } else {
            smallStreak = 0;
        }
        WireDropReason bad = WireFrame.decode(receiveHeader, length, frame, crc);
        if (bad != null) {
            count(bad);
            discard();
            return;
        }
        readSource(frame.source);
        endsMessage = frame.fragmentOffset + frame.fragmentLength == frame.messageLength;
        Inbound nic = inbound;
        if (nic == null || !nic.claim(frame, placement)) {
            counters.increment(FRAMES_DECLINED);
            discard();
            return;
        }
        int into = placement.length;
        int rest = frame.fragmentLength - into;
        if (into < 0 || rest < 0 || rest > SCRATCH_LENGTH || (into > 0 && !inBounds(placement, into))) {
            nic.abort(frame, "the NIC's placement of " + into + " bytes is outside its buffer or longer than the fragment");
            count(WireDropReason.INCONSISTENT_RECEIVE);
            discard();
            return;
        }
        int second = PLACE_IOV_OFFSET + IOVEC_LENGTH;
        memory.putLong(second + IOV_BASE, placement.address);
        memory.putLong(second + IOV_LEN, into);
        memory.putLong(second + IOVEC_LENGTH + IOV_BASE, scratchAddress);
        memory.putLong(second + IOVEC_LENGTH + IOV_LEN, rest);
        long received;
        try {
            received = Libc.recvmsg(fd, blockAddress + PLACE_MSGHDR_OFFSET, Libc.MSG_TRUNC | Libc.MSG_DONTWAIT);
        } catch (RuntimeException e) {
            nic.abort(frame, e.getMessage());
            throw e;
        }
        if (received != length) {
            nic.abort(frame, "datagram of " + length + " bytes when peeked was " + received + " when received");
            count(WireDropReason.INCONSISTENT_RECEIVE);
            return;
        }
        nic.commit(frame);
        counters.increment(FRAMES_PLACED);
    }

    /**
     * The sender of the datagram just received, from the source sockaddr {@code recvmsg} wrote, as
     * {@link SourceKey}'s udp encoding: exact for IPv4 and IPv6 (family, port, scope id, address).
     */
    private void readSource(SourceKey into) {
        int family = memory.getShort(SOURCE_OFFSET) & 0xFFFF;
        if (family == Libc.AF_INET) {
            ipv4Key(memory.getLong(SOURCE_OFFSET), into);
        } else if (family == AF_INET6) {
            long portAndScope = (memory.getShort(SOURCE_OFFSET + 2) & 0xFFFFL) << 16
                    | (memory.getInt(SOURCE_OFFSET + 24) & 0xFFFF_FFFFL) << 32;
            into.set(family | portAndScope, memory.getLong(SOURCE_OFFSET + 8), memory.getLong(SOURCE_OFFSET + 16));
        } else {
            into.clear(); // not a datagram from an address: matches no route
        }
    }

    /** The key of an IPv4 sender from the first 8 bytes of its sockaddr_in (family, port, address). */
    static SourceKey ipv4Key(long sockaddrWord, SourceKey into) {
        return into.set(sockaddrWord & 0xFFFF_FFFFL, sockaddrWord >>> 32, 0);
    }

    /** The placement lies inside its buffer, at the address the buffer really has. */
    private static boolean inBounds(Placement p, int length) {
        ByteBuffer buffer = p.buffer;
        return buffer != null && buffer.isDirect() && p.index >= 0 && p.index <= buffer.capacity() - length
                && p.address == NativeMemory.address(buffer) + p.index;
    }

    private void count(WireDropReason reason) {
        counters.increment(DROPPED + reason.ordinal());
    }

    /** Consumes the datagram at the head of the queue without writing it anywhere. */
    private void discard() {
        Libc.recv(fd, 0, 0, Libc.MSG_TRUNC | Libc.MSG_DONTWAIT);
    }

    // ---- the rest -------------------------------------------------------------------------------

    public UdpStats stats() {
        long[] counts = new long[WireDropReason.values().length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = counters.get(DROPPED + i);
        }
        return new UdpStats(address, mtu, receiveBufferBytes, sendBufferBytes, counters.get(DATAGRAMS_SENT),
                counters.get(BYTES_SENT), counters.get(SEND_BACK_PRESSURED), counters.get(SENDS_LOST),
                counters.get(GATHER_COPIES), counters.get(DATAGRAMS_RECEIVED), counters.get(BYTES_RECEIVED),
                counters.get(FRAMES_PLACED), counters.get(FRAMES_COPIED), counters.get(FRAMES_DECLINED),
                UdpStats.dropMap(counts));
    }

    public boolean isClosed() {
        return closed;
    }

    /** Closes the socket and frees the native block; frames sent to this address afterwards are lost. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        OPEN.remove(address, this);
        closeQuietly(fd, block, area, staging);
    }

    /**
     * A socket call's refusal while opening, told as the networking failure it is (its errno in the
     * cause); anything else (the native memory of the block, a bad key) as it came.
     */
    private static RuntimeException opening(UdpConfig config, RuntimeException e) {
        if (e instanceof KernelException k && switch (k.call()) {
            case "socket", "bind", "setsockopt", "getsockopt", "getsockname" -> true;
            default -> false;
        }) {
            return new TransportException("cannot open the udp wire at " + config.bind() + ": " + k.getMessage(), k);
        }
        return e;
    }

        private static void closeQuietly(int fd, NativeBuffer blockMemory, NativeBuffer areaMemory, NativeBuffer stagingMemory) {
        RuntimeException failure = null;
        try {
            Libc.close(fd);
        } catch (KernelException e) {
            failure = e;
        }
        if (blockMemory != null) {
            blockMemory.close();
        }
        if (areaMemory != null) {
            areaMemory.close();
        }
        if (stagingMemory != null) {
            stagingMemory.close();
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "UdpTransport[" + address + " mtu=" + mtu + " rcvbuf=" + receiveBufferBytes + "]";
    }
}
