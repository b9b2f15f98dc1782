package org.unetmm.nic.udp;

import static org.unetmm.nic.udp.SocketStructs.IOVEC_LENGTH;
import static org.unetmm.nic.udp.SocketStructs.IOV_BASE;
import static org.unetmm.nic.udp.SocketStructs.IOV_LEN;
import static org.unetmm.nic.udp.SocketStructs.MAX_IOV;
import static org.unetmm.nic.udp.SocketStructs.MMSGHDR_LENGTH;
import static org.unetmm.nic.udp.SocketStructs.MSG_IOVLEN;
import static org.unetmm.nic.udp.SocketStructs.MSG_LEN;
import static org.unetmm.nic.udp.SocketStructs.MSG_NAMELEN;

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
 * <p><b>Send: many datagrams per system call, small messages coalesced.</b> {@link #transmit}
 * queues each fragment in the round's {@link SendBatch}: its wire header, then iovecs straight into
 * the sender's translated pages (pinned path) or its fixed segment, retained so the NIC completes
 * the send only once the kernel has the bytes; small payloads are copied instead. Small whole
 * messages for one peer share a datagram, each a frame of its own ({@link WireFrame#FLAG_MORE}).
 * The batch leaves with one {@code sendmmsg(2)} when the round ends ({@link #poll}, which the
 * engine calls after its send loop), when it is full, or on {@link #flush}; nothing waits to fill
 * a datagram. A full batch the kernel will not take ({@code EAGAIN}/{@code ENOBUFS}) makes
 * {@code transmit} return false (back-pressure: the NIC tries the fragment again on its next
 * progress). Errors a datagram socket reports for good (unreachable, refused, firewall, too long)
 * lose the datagram, as UDP does, and are counted; its sends still complete, since an unreliable
 * channel completes when the last byte is handed to the wire.
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
 *   <li><b>copy</b> (fragments of at most {@link UdpConfig#copyBreak()} bytes): one {@code recvmmsg(2)} takes
 *       up to a vector of whole datagrams, and their senders, into slots of the receive area; every frame of
 *       each (a coalesced datagram holds several) is checked on its own and offered with
 *       {@link Inbound#onFragment}, and the NIC copies its payload from the slot into the posted buffer. One
 *       system call for many datagrams and a small copy each, cheaper than a second system call.</li>
 * </ul>
 * The wire starts copying; a fragment larger than the copy break switches it to direct placement (the
 * datagrams of that vector are copied, being in their slots already), and {@value #SMALL_STREAK} small datagrams in a row switch
 * it back. Either way a frame that fails a check is discarded and counted by {@link WireDropReason},
 * having been written nowhere but the receive area. A coalesced datagram met while placing directly is
 * received whole into slot 0 and its frames offered as when copying.
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
 *  struct msghdr, mmsghdr, iovec: drawn in {@link SocketStructs}
 *  struct sockaddr_in (16 bytes)
 *     0  sa_family_t sin_family  (AF_INET, host order)
 *     2  in_port_t   sin_port    (network order)
 *     4  struct in_addr sin_addr (network order)
 *     8  unsigned char sin_zero[8]
 *  struct pollfd (8 bytes): 0 int fd, 4 short events, 6 short revents
 *  struct timespec (16 bytes): 0 time_t tv_sec, 8 long tv_nsec
 *
 *  the block (one page-aligned allocation)
 *      0  place msghdr     no name (the peek named the sender), iov = place iovecs
 *     64  bound sockaddr_in and 80 its socklen_t, for getsockname
 *     88  pollfd, 96 timespec: the idle wait
 *    112  receive msghdr   name = slot 0's source, iov = receive iovec: the peek, or one whole datagram
 *    168  receive iovec    [slot 0, 72 to peek at a header or the whole slot]
 *    184  place iovec[3]   [slot 0's header, 72] [placement, placement.length] [scratch, rest]
 *    232  receive vector   V = min(batch, 64) struct mmsghdr (64 bytes: msghdr, then unsigned msg_len
 *                          and 4 pad), then V source sockaddrs (32 bytes, room for a sockaddr_in6),
 *                          then V iovecs, one per slot: what one recvmmsg fills
 *
 *  the receive area (its own allocation): V slots of 72 + 64 KiB, slot s at s * 65608, each one
 *  whole datagram: frame headers and payloads as they came. Slot 0 doubles as the place path's
 *      0  receive header   (72 bytes; peek and place land the header here)
 *     72  scratch          (64 KiB: the discarded rest of a placed frame)
 *
 *  the send batch: see {@link SendBatch}
 * </pre>
 *
 * <p>Threading: as the SPI says, one NIC thread at a time; the counters are single-writer and may
 * be read from any thread. Not here (yet): {@code MSG_ZEROCOPY}, UDP GSO and GRO.
 */
public final class UdpTransport implements Transport {
    // the block
    private static final int PLACE_MSGHDR_OFFSET = 0;
    private static final int BOUND_ADDRESS_OFFSET = 64;
    private static final int BOUND_LENGTH_OFFSET = 80;
    private static final int POLLFD_OFFSET = 88;
    private static final int TIMESPEC_OFFSET = 96;
    private static final int RECEIVE_MSGHDR_OFFSET = 112;
    private static final int RECEIVE_IOV_OFFSET = 168;
    private static final int PLACE_IOV_OFFSET = 184;
    private static final int VECTOR_OFFSET = 232;
    private static final int SOURCE_LENGTH = 32;
    /** Most datagrams one recvmmsg takes. */
    static final int MAX_VECTOR = 64;
    private static final int SOCKADDR_IN_LENGTH = 16;
    private static final int AF_INET6 = 10;
    // a slot of the receive area
    private static final int SCRATCH_OFFSET = WireFrame.HEADER_LENGTH;
    private static final int SCRATCH_LENGTH = 64 * 1024;
    private static final int SLOT_LENGTH = SCRATCH_OFFSET + SCRATCH_LENGTH;
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
    /** The receive area: every datagram is read into one of its slots. */
    private final ByteBuffer slots;
    private final long blockAddress;
    private final long areaAddress;
    private final long scratchAddress;
    /** The payload of a copied frame, bytes of its slot in the receive area: the NIC pulls it into the posted buffer. */
    private final BufferPayload slotPayload;
    private final SendBatch batch;
    /** Slots of the receive vector, its mmsghdrs, its sources. */
    private final int vector;
    private final int vectorMsghdrs;
    private final int vectorSources;
    private final UdpAddress bound;
    private final String address;
    private final int mtu;
    private final int receiveBufferBytes;
    private final int sendBufferBytes;
    private final CRC32C crc = new CRC32C();
    private final FrameHeader frame = new FrameHeader();
    private final Placement placement = new Placement();
    /** Receiving by copy (one recv) rather than by direct placement (a peek, then recvmsg). */
    private boolean copying;
    private int smallStreak;
    /** Datagrams the last recvmmsg took, and the next of them to open. */
    private int received;
    private int nextSlot;
    /** The datagram being read: its slot, the index of its next frame in {@link #slots}, its end. */
    private int slot;
    private int frameAt;
    private int datagramEnd;
    /** The frame decoded at {@link #frameAt} could not be taken yet (its engine was busy): offered again first. */
    private boolean held;
    /** The frame just received was the last of its message. */
    private boolean endsMessage;
    private Inbound inbound;
    private volatile boolean closed;

    // counters: written by the NIC thread that drives this wire (poll), read by stats() anywhere
    private static final int DATAGRAMS_RECEIVED = 0;
    private static final int FRAMES_RECEIVED = 1;
    private static final int RECEIVE_CALLS = 2;
    private static final int BYTES_RECEIVED = 3;
    private static final int FRAMES_PLACED = 4;
    private static final int FRAMES_COPIED = 5;
    private static final int FRAMES_DECLINED = 6;
    /** The first of one slot per {@link WireDropReason}, by ordinal. */
    private static final int DROPPED = 7;
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
            int slotCount = Math.min(config.receiveBatch(), MAX_VECTOR);
            blockMemory = NativeMemory.allocate(VECTOR_OFFSET + slotCount * (MMSGHDR_LENGTH + SOURCE_LENGTH + IOVEC_LENGTH));
            areaMemory = NativeMemory.allocate(slotCount * SLOT_LENGTH);
        } catch (RuntimeException e) {
            closeQuietly(socket, blockMemory, areaMemory);
            throw opening(config, e);
        }
        this.fd = socket;
        this.block = blockMemory;
        this.area = areaMemory;
        this.memory = block.buffer().order(ByteOrder.LITTLE_ENDIAN);
        this.blockAddress = block.address();
        this.areaAddress = area.address();
        this.scratchAddress = areaAddress + SCRATCH_OFFSET;
        this.slots = area.buffer().order(ByteOrder.LITTLE_ENDIAN);
        this.slotPayload = new BufferPayload(slots); // the payload of a copied frame: the NIC pulls it in
        this.vector = Math.min(config.receiveBatch(), MAX_VECTOR);
        this.vectorMsghdrs = VECTOR_OFFSET;
        this.vectorSources = vectorMsghdrs + vector * MMSGHDR_LENGTH;
        layOut();
        try {
            memory.putInt(BOUND_LENGTH_OFFSET, SOCKADDR_IN_LENGTH);
            Libc.getsockname(fd, blockAddress + BOUND_ADDRESS_OFFSET, blockAddress + BOUND_LENGTH_OFFSET);
        } catch (RuntimeException e) {
            closeQuietly(fd, block, area);
            throw opening(config, e);
        }
        this.bound = UdpAddress.fromSockaddrWord(memory.getLong(BOUND_ADDRESS_OFFSET));
        this.address = bound.toString();
        this.mtu = defaultMtu(bound);
        this.copying = config.copyBreak() > 0;
        SendBatch sendBatch;
        try {
            sendBatch = new SendBatch(fd, mtu + WireFrame.HEADER_LENGTH, config.sendCopy());
        } catch (RuntimeException e) {
            closeQuietly(fd, block, area);
            throw e;
        }
        this.batch = sendBatch;
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
        msghdr(PLACE_MSGHDR_OFFSET, 0, 0, base + PLACE_IOV_OFFSET, 3);
        msghdr(RECEIVE_MSGHDR_OFFSET, base + vectorSources, SOURCE_LENGTH, base + RECEIVE_IOV_OFFSET, 1);
        iovec(RECEIVE_IOV_OFFSET, areaAddress, SLOT_LENGTH);
        iovec(PLACE_IOV_OFFSET, areaAddress, WireFrame.HEADER_LENGTH);
        int vectorIovecs = vectorSources + vector * SOURCE_LENGTH;
        for (int i = 0; i < vector; i++) {
            msghdr(vectorMsghdrs + i * MMSGHDR_LENGTH, base + vectorSources + i * SOURCE_LENGTH, SOURCE_LENGTH,
                    base + vectorIovecs + i * IOVEC_LENGTH, 1);
            iovec(vectorIovecs + i * IOVEC_LENGTH, areaAddress + (long) i * SLOT_LENGTH, SLOT_LENGTH);
        }
        memory.putInt(POLLFD_OFFSET, fd);
        memory.putShort(POLLFD_OFFSET + 4, (short) Libc.POLLIN);
        long waitNanos = config.waitMicros() * 1000L;
        memory.putLong(TIMESPEC_OFFSET, waitNanos / 1_000_000_000L);
        memory.putLong(TIMESPEC_OFFSET + 8, waitNanos % 1_000_000_000L);
    }

    private void msghdr(int at, long name, int nameLength, long iov, int iovCount) {
        SocketStructs.msghdr(memory, at, name, nameLength, iov, iovCount);
    }

    private void iovec(int at, long base, long length) {
        SocketStructs.iovec(memory, at, base, length);
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
        batch.start(transmitted);
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
            batch.countLost();
            return true;
        }
        if (!batch.hasRoom() && !batch.send()) {
            return false; // the kernel pushed back with the batch full
        }
        try {
            batch.add(((UdpRoute) route).sockaddrWord(), header, payload);
        } catch (RuntimeException e) {
            return true; // the NIC kept the failure (a page it could not translate) and fails the send with it
        }
        return true;
    }

    /** Sends what this round queued and, retrying a back-pressured kernel for a while, fails what cannot go. */
    @Override
    public void flush() {
        if (!closed) {
            batch.flush();
        }
    }

    // ---- receive -------------------------------------------------------------------------------

    @Override
    public int poll() {
        if (closed) {
            return 0;
        }
        int done = 0;
        if (batch.pending() > 0) {
            int before = batch.pending();
            batch.send(); // the end of the round's sends: one sendmmsg for what it queued
            done += before - batch.pending();
        }
        if (!offerReceived()) {
            return done;
        }
        int limit = config.receiveBatch();
        int taken = 0;
        while (taken < limit) {
            endsMessage = false;
            if (copying) {
                int want = Math.min(vector, limit - taken);
                for (int i = 0; i < want; i++) {
                    memory.putInt(vectorMsghdrs + i * MMSGHDR_LENGTH + MSG_NAMELEN, SOURCE_LENGTH);
                }
                int n = Libc.recvmmsg(fd, blockAddress + vectorMsghdrs, want, Libc.MSG_DONTWAIT);
                counters.increment(RECEIVE_CALLS);
                if (n <= 0) {
                    if (n == -Errno.EAGAIN) {
                        break;
                    }
                    continue; // EINTR, or a refusal reported by ICMP for an earlier send: nothing to receive
                }
                taken += n;
                received = n;
                nextSlot = 0;
                if (!offerReceived()) {
                    break; // held for the NIC
                }
            } else {
                memory.putLong(RECEIVE_IOV_OFFSET + IOV_LEN, WireFrame.HEADER_LENGTH);
                memory.putInt(RECEIVE_MSGHDR_OFFSET + MSG_NAMELEN, SOURCE_LENGTH);
                long length = Libc.recvmsg(fd, blockAddress + RECEIVE_MSGHDR_OFFSET,
                        Libc.MSG_PEEK | Libc.MSG_TRUNC | Libc.MSG_DONTWAIT);
                counters.increment(RECEIVE_CALLS);
                if (length < 0) {
                    if (length == -Errno.EAGAIN) {
                        break;
                    }
                    continue;
                }
                taken++;
                counters.increment(DATAGRAMS_RECEIVED);
                counters.add(BYTES_RECEIVED, length);
                if (!place((int) length)) {
                    break; // held for the NIC
                }
            }
            if (endsMessage) {
                break; // let the caller see the completion now rather than after one more system call
            }
        }
        done += taken;
        if (done == 0 && config.waitMicros() > 0) {
            Libc.ppoll(blockAddress + POLLFD_OFFSET, 1, blockAddress + TIMESPEC_OFFSET);
        }
        return done;
    }

    /**
     * Offers the frames of the datagrams the last {@code recvmmsg} took, slot by slot, each frame
     * checked on its own. Returns false when the NIC was busy: the frame is held, and offered first
     * next time.
     */
    private boolean offerReceived() {
        while (true) {
            if (frameAt < datagramEnd && !offerFrames()) {
                return false;
            }
            if (nextSlot >= received) {
                return true;
            }
            int s = nextSlot++;
            long length = memory.getInt(vectorMsghdrs + s * MMSGHDR_LENGTH + MSG_LEN) & 0xFFFF_FFFFL;
            counters.increment(DATAGRAMS_RECEIVED);
            counters.add(BYTES_RECEIVED, length);
            openDatagram(s, (int) length);
        }
    }

    private void openDatagram(int s, int length) {
        slot = s;
        frameAt = s * SLOT_LENGTH;
        datagramEnd = frameAt + length;
        if (length == 0) {
            count(WireDropReason.SHORT_DATAGRAM);
        }
    }

    /**
     * Offers the frames of the datagram in {@link #slot} from {@link #frameAt} on. A frame that fails
     * a check is counted and ends the datagram: its lengths cannot be trusted to find the next one.
     * Returns false when the NIC was busy and the frame is held.
     */
    private boolean offerFrames() {
        while (frameAt < datagramEnd) {
            if (!held) {
                WireDropReason bad = WireFrame.decode(slots, frameAt, datagramEnd - frameAt, frame, crc);
                if (bad != null) {
                    count(bad);
                    frameAt = datagramEnd;
                    return true;
                }
                counters.increment(FRAMES_RECEIVED);
                frame.flags &= ~WireFrame.FLAG_MORE;
                readSource(slot, frame.source);
                endsMessage |= frame.fragmentOffset + frame.fragmentLength == frame.messageLength;
                if (frame.fragmentLength > config.copyBreak()) {
                    copying = false; // large frames are arriving: place them directly from the next datagram on
                    smallStreak = 0;
                }
                slotPayload.window(frameAt + WireFrame.HEADER_LENGTH, frame.fragmentLength);
                held = true;
            }
            Inbound nic = inbound;
            if (nic != null && !nic.onFragment(frame, slotPayload)) {
                return false;
            }
            held = false;
            counters.increment(FRAMES_COPIED);
            frameAt += WireFrame.HEADER_LENGTH + frame.fragmentLength;
        }
        return true;
    }

    /**
     * The datagram at the head of the queue is {@code length} bytes and its header has been peeked:
     * checks the header, asks the NIC where the payload goes, and receives it straight there. A
     * coalesced datagram is received whole into slot 0 and its frames offered as when copying.
     * Returns false when the NIC was busy with a frame of such a datagram (held).
     */
    private boolean place(int length) {
        if (length - WireFrame.HEADER_LENGTH <= config.copyBreak()) {
            if (++smallStreak >= SMALL_STREAK) {
                copying = true;
            }
        } else {
            smallStreak = 0;
        }
        WireDropReason bad = WireFrame.decode(slots, 0, length, frame, crc);
        if (bad != null) {
            count(bad);
            discard();
            return true;
        }
        if (WireFrame.isFollowed(frame)) {
            memory.putLong(RECEIVE_IOV_OFFSET + IOV_LEN, SLOT_LENGTH);
            memory.putInt(RECEIVE_MSGHDR_OFFSET + MSG_NAMELEN, SOURCE_LENGTH);
            long whole = Libc.recvmsg(fd, blockAddress + RECEIVE_MSGHDR_OFFSET, Libc.MSG_TRUNC | Libc.MSG_DONTWAIT);
            if (whole != length) {
                count(WireDropReason.INCONSISTENT_RECEIVE);
                return true;
            }
            received = 0;
            nextSlot = 0;
            openDatagram(0, length);
            return offerFrames();
        }
        counters.increment(FRAMES_RECEIVED);
        readSource(0, frame.source);
        endsMessage = frame.fragmentOffset + frame.fragmentLength == frame.messageLength;
        Inbound nic = inbound;
        if (nic == null || !nic.claim(frame, placement)) {
            counters.increment(FRAMES_DECLINED);
            discard();
            return true;
        }
        int into = placement.length;
        int rest = frame.fragmentLength - into;
        if (into < 0 || rest < 0 || rest > SCRATCH_LENGTH || (into > 0 && !inBounds(placement, into))) {
            nic.abort(frame, "the NIC's placement of " + into + " bytes is outside its buffer or longer than the fragment");
            count(WireDropReason.INCONSISTENT_RECEIVE);
            discard();
            return true;
        }
        int second = PLACE_IOV_OFFSET + IOVEC_LENGTH;
        memory.putLong(second + IOV_BASE, placement.address);
        memory.putLong(second + IOV_LEN, into);
        memory.putLong(second + IOVEC_LENGTH + IOV_BASE, scratchAddress);
        memory.putLong(second + IOVEC_LENGTH + IOV_LEN, rest);
        long placed;
        try {
            placed = Libc.recvmsg(fd, blockAddress + PLACE_MSGHDR_OFFSET, Libc.MSG_TRUNC | Libc.MSG_DONTWAIT);
        } catch (RuntimeException e) {
            nic.abort(frame, e.getMessage());
            throw e;
        }
        if (placed != length) {
            nic.abort(frame, "datagram of " + length + " bytes when peeked was " + placed + " when received");
            count(WireDropReason.INCONSISTENT_RECEIVE);
            return true;
        }
        nic.commit(frame);
        counters.increment(FRAMES_PLACED);
        return true;
    }

    /**
     * The sender of the datagram in slot {@code s}, from the source sockaddr the kernel wrote, as
     * {@link SourceKey}'s udp encoding: exact for IPv4 and IPv6 (family, port, scope id, address).
     */
    private void readSource(int s, SourceKey into) {
        int at = vectorSources + s * SOURCE_LENGTH;
        int family = memory.getShort(at) & 0xFFFF;
        if (family == Libc.AF_INET) {
            ipv4Key(memory.getLong(at), into);
        } else if (family == AF_INET6) {
            long portAndScope = (memory.getShort(at + 2) & 0xFFFFL) << 16
                    | (memory.getInt(at + 24) & 0xFFFF_FFFFL) << 32;
            into.set(family | portAndScope, memory.getLong(at + 8), memory.getLong(at + 16));
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
        SendBatch b = batch;
        return new UdpStats(address, mtu, receiveBufferBytes, sendBufferBytes, b.count(SendBatch.DATAGRAMS_SENT),
                b.count(SendBatch.FRAMES_SENT), b.count(SendBatch.BYTES_SENT), b.count(SendBatch.SEND_CALLS),
                b.count(SendBatch.SEND_BACK_PRESSURED), b.count(SendBatch.SENDS_LOST), b.count(SendBatch.GATHER_COPIES),
                counters.get(DATAGRAMS_RECEIVED), counters.get(FRAMES_RECEIVED), counters.get(BYTES_RECEIVED),
                counters.get(RECEIVE_CALLS), counters.get(FRAMES_PLACED), counters.get(FRAMES_COPIED),
                counters.get(FRAMES_DECLINED), UdpStats.dropMap(counts));
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
        if (batch.pending() > 0) {
            batch.send(); // best effort: what the last round queued
        }
        batch.fail("the udp wire was closed before the datagram was sent");
        closed = true;
        OPEN.remove(address, this);
        try {
            closeQuietly(fd, block, area);
        } finally {
            batch.close();
        }
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

    private static void closeQuietly(int fd, NativeBuffer blockMemory, NativeBuffer areaMemory) {
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
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "UdpTransport[" + address + " mtu=" + mtu + " rcvbuf=" + receiveBufferBytes + "]";
    }
}
