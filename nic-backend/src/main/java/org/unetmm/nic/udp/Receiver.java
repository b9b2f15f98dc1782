package org.unetmm.nic.udp;

import static org.unetmm.nic.udp.SocketStructs.GRO_CONTROL_LENGTH;
import static org.unetmm.nic.udp.SocketStructs.IOVEC_LENGTH;
import static org.unetmm.nic.udp.SocketStructs.IOV_BASE;
import static org.unetmm.nic.udp.SocketStructs.IOV_LEN;
import static org.unetmm.nic.udp.SocketStructs.MMSGHDR_LENGTH;
import static org.unetmm.nic.udp.SocketStructs.MSG_CONTROL;
import static org.unetmm.nic.udp.SocketStructs.MSG_CONTROLLEN;
import static org.unetmm.nic.udp.SocketStructs.MSG_LEN;
import static org.unetmm.nic.udp.SocketStructs.MSG_NAMELEN;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.unetmm.internal.BufferPayload;
import org.unetmm.internal.Counters;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.Errno;
import org.unetmm.pinning.internal.Libc;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.Inbound;
import org.unetmm.spi.Placement;
import org.unetmm.spi.SourceKey;

/**
 * The udp wire's receive side: takes datagrams off the socket, checks every frame's header before
 * a byte reaches user memory, and hands valid frames to the NIC ({@link Inbound}). Two ways, chosen
 * per datagram by the size of the recent ones (as a NIC driver's {@code rx_copybreak}):
 * <ul>
 *   <li><b>direct placement</b> (large fragments): {@link #poll} peeks at the next datagram's first
 *       {@link WireFrame#HEADER_LENGTH} bytes ({@code recvmsg} with {@code MSG_PEEK|MSG_TRUNC}, which also yields the
 *       datagram's real length, its sender and its GRO segment size) and checks every field. A valid frame goes to
 *       {@link Inbound#claim}; if the NIC wants it, one {@code recvmsg(2)} scatters the datagram into [header buffer,
 *       {@code placement.length} bytes of the posted buffer, a scratch buffer for any rest (the part of a message
 *       longer than the posted buffer)] and the claim is committed; otherwise the datagram is discarded
 *       ({@code recv} of nothing with {@code MSG_TRUNC}). Two system calls, no copy in Java.</li>
 *   <li><b>copy</b> (fragments of at most {@link UdpConfig#copyBreak()} bytes, and GRO runs): one
 *       {@code recvmmsg(2)} takes up to a vector of whole datagrams, and their senders, into slots of the receive
 *       area; every frame of each (a coalesced datagram holds several) is checked on its own and offered with
 *       {@link Inbound#onFragment}, and the NIC copies its payload from the slot into the posted buffer. One
 *       system call for many datagrams and a small copy each, cheaper than a second system call.</li>
 * </ul>
 * The wire starts copying; a fragment larger than the copy break (outside a GRO run) switches it to direct
 * placement (the datagrams of that vector are copied, being in their slots already), and {@value #SMALL_STREAK}
 * small datagrams in a row, or one GRO run, switch it back. Either way a frame that fails a check is discarded and
 * counted by {@link WireDropReason}, having been written nowhere but the receive area. A coalesced datagram or a
 * GRO run met while placing directly is received whole into slot 0 and its frames offered as when copying.
 *
 * <p><b>Messages per poll.</b> A poll completes at most {@link UdpConfig#pollMessages()} messages, also
 * inside one coalesced datagram: the frames after that wait in their slot, and the next poll starts with
 * them (no system call). So a burst of requests that arrived in one datagram is answered in parts,
 * the first answers leaving (and the peer working on them) while the rest are served.
 *
 * <p><b>GRO.</b> A run the kernel kept whole ({@code UDP_GRO}) is cut back into its datagrams by
 * {@link GroRun}'s rules, and each segment checked exactly as a datagram of its own.
 *
 * <p><b>Who sent it.</b> Both receives name the sender's {@code sockaddr} ({@code msg_name}), which
 * becomes the frame's {@link FrameHeader#source} key (see {@link UdpTransport}).
 *
 * <pre>
 *  the block (one page-aligned allocation; structs in {@link SocketStructs})
 *      0  place msghdr     no name (the peek named the sender), iov = place iovecs
 *     64  bound sockaddr_in and 80 its socklen_t, for getsockname
 *     88  pollfd, 96 timespec: the idle wait
 *    112  receive msghdr   name = slot 0's source, iov = receive iovec, control = receive control:
 *                          the peek, or one whole datagram
 *    168  receive iovec    [slot 0, 72 to peek at a header or the whole slot]
 *    184  place iovec[3]   [slot 0's header, 72] [placement, placement.length] [scratch, rest]
 *    232  receive control  32 bytes: the peek's UDP_GRO cmsg
 *    264  receive vector   V = min(batch, 64) struct mmsghdr (64 bytes: msghdr, then unsigned msg_len
 *                          and 4 pad), then V source sockaddrs (32 bytes, room for a sockaddr_in6),
 *                          then V iovecs, one per slot, then V controls of 32 bytes: what one recvmmsg fills
 *
 *  the receive area (its own allocation): V slots of 72 + 64 KiB, slot s at s * 65608, each one
 *  whole datagram (or GRO run): frame headers and payloads as they came. Slot 0 doubles as the place path's
 *      0  receive header   (72 bytes; peek and place land the header here)
 *     72  scratch          (64 KiB: the discarded rest of a placed frame)
 * </pre>
 *
 * Threading: the NIC thread that drives the wire; counters single-writer, read anywhere.
 */
final class Receiver {
    // the block
    private static final int PLACE_MSGHDR_OFFSET = 0;
    private static final int BOUND_ADDRESS_OFFSET = 64;
    private static final int BOUND_LENGTH_OFFSET = 80;
    private static final int POLLFD_OFFSET = 88;
    private static final int TIMESPEC_OFFSET = 96;
    private static final int RECEIVE_MSGHDR_OFFSET = 112;
    private static final int RECEIVE_IOV_OFFSET = 168;
    private static final int PLACE_IOV_OFFSET = 184;
    private static final int RECEIVE_CONTROL_OFFSET = 232;
    private static final int VECTOR_OFFSET = 264;
    private static final int SOURCE_LENGTH = 32;
    /** Most datagrams one recvmmsg takes. */
    static final int MAX_VECTOR = 64;
    private static final int SOCKADDR_IN_LENGTH = 16;
    // a slot of the receive area
    private static final int SCRATCH_OFFSET = WireFrame.HEADER_LENGTH;
    private static final int SCRATCH_LENGTH = 64 * 1024;
    private static final int SLOT_LENGTH = SCRATCH_OFFSET + SCRATCH_LENGTH;
    /** Small datagrams in a row, seen while placing directly, after which the wire goes back to copying. */
    static final int SMALL_STREAK = 16;

    private final UdpConfig config;
    private final int fd;
    private final boolean gro;
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
    /** Slots of the receive vector, its mmsghdrs, its sources, its controls. */
    private final int vector;
    private final int vectorMsghdrs;
    private final int vectorSources;
    private final int vectorControls;
    private final CRC32C crc = new CRC32C();
    private final FrameHeader frame = new FrameHeader();
    private final Placement placement = new Placement();
    /** Receiving by copy (one recv) rather than by direct placement (a peek, then recvmsg). */
    private boolean copying;
    private int smallStreak;
    /**
     * Slots the next {@code recvmmsg} asks for: 1 after a call that found the socket empty, what the
     * last call took when it took less than it asked, twice the last ask (up to the vector) after one
     * that filled it. A datagram that arrives alone (a ping-pong, sparse traffic) is then taken by a
     * call that stops at it, not by one that goes on to find the socket empty (a second attempt in
     * the kernel, on every round trip); a stream's backlog grows the ask to the whole vector within
     * a few calls.
     */
    private int ask = 1;
    /** Datagrams the last recvmmsg took, and the next of them to open. */
    private int received;
    private int nextSlot;
    /** The datagram being read: its slot, the index of its next frame in {@link #slots}, its end. */
    private int slot;
    private int frameAt;
    private int datagramEnd;
    /** The GRO segment being read ends here; segments of the run are this long ({@link #datagramEnd} - start without GRO). */
    private int segmentEnd;
    private int segmentSize;
    /** The frame decoded at {@link #frameAt} could not be taken yet (its engine was busy): offered again first. */
    private boolean held;
    /** The frame just received was the last of its message. */
    private boolean endsMessage;
    /** Messages this poll may still complete before it leaves the rest of the receive area to the next. */
    private int messageBudget;
    private Inbound inbound;

    // counters: written by the NIC thread that drives this wire (poll), read by stats() anywhere
    static final int DATAGRAMS_RECEIVED = 0;
    static final int FRAMES_RECEIVED = 1;
    static final int RECEIVE_CALLS = 2;
    static final int BYTES_RECEIVED = 3;
    static final int FRAMES_PLACED = 4;
    static final int FRAMES_COPIED = 5;
    static final int FRAMES_DECLINED = 6;
    static final int GRO_RUNS = 7;
    static final int GRO_SEGMENTS = 8;
    /** The first of one slot per {@link WireDropReason}, by ordinal. */
    static final int DROPPED = 9;
    private final Counters counters = new Counters(DROPPED + WireDropReason.values().length);

    /** The receive side of socket {@code fd}; {@code gro}: the socket has UDP_GRO on (its receives carry the cmsg). */
    Receiver(int fd, UdpConfig config, boolean gro) {
        this.fd = fd;
        this.config = config;
        this.gro = gro;
        this.vector = Math.min(config.receiveBatch(), MAX_VECTOR);
        NativeBuffer blockMemory = NativeMemory.allocate(VECTOR_OFFSET
                + vector * (MMSGHDR_LENGTH + SOURCE_LENGTH + IOVEC_LENGTH + GRO_CONTROL_LENGTH));
        try {
            this.area = NativeMemory.allocate(vector * SLOT_LENGTH);
        } catch (RuntimeException e) {
            blockMemory.close();
            throw e;
        }
        this.block = blockMemory;
        this.memory = block.buffer().order(ByteOrder.LITTLE_ENDIAN);
        this.blockAddress = block.address();
        this.areaAddress = area.address();
        this.scratchAddress = areaAddress + SCRATCH_OFFSET;
        this.slots = area.buffer().order(ByteOrder.LITTLE_ENDIAN);
        this.slotPayload = new BufferPayload(slots);
        this.vectorMsghdrs = VECTOR_OFFSET;
        this.vectorSources = vectorMsghdrs + vector * MMSGHDR_LENGTH;
        this.vectorControls = vectorSources + vector * (SOURCE_LENGTH + IOVEC_LENGTH);
        this.copying = config.copyBreak() > 0;
        layOut();
    }

    /** The socket's bound address (getsockname), as a sockaddr_in's first 8 bytes. */
    long boundSockaddrWord() {
        memory.putInt(BOUND_LENGTH_OFFSET, SOCKADDR_IN_LENGTH);
        Libc.getsockname(fd, blockAddress + BOUND_ADDRESS_OFFSET, blockAddress + BOUND_LENGTH_OFFSET);
        return memory.getLong(BOUND_ADDRESS_OFFSET);
    }

    void start(Inbound nic) {
        this.inbound = nic;
    }

    /** Writes the parts of the block that never change: msghdrs, their iovec pointers, the header iovecs. */
    private void layOut() {
        long base = blockAddress;
        SocketStructs.msghdr(memory, PLACE_MSGHDR_OFFSET, 0, 0, base + PLACE_IOV_OFFSET, 3);
        SocketStructs.msghdr(memory, RECEIVE_MSGHDR_OFFSET, base + vectorSources, SOURCE_LENGTH, base + RECEIVE_IOV_OFFSET, 1);
        control(RECEIVE_MSGHDR_OFFSET, RECEIVE_CONTROL_OFFSET);
        SocketStructs.iovec(memory, RECEIVE_IOV_OFFSET, areaAddress, SLOT_LENGTH);
        SocketStructs.iovec(memory, PLACE_IOV_OFFSET, areaAddress, WireFrame.HEADER_LENGTH);
        int vectorIovecs = vectorSources + vector * SOURCE_LENGTH;
        for (int i = 0; i < vector; i++) {
            int msghdr = vectorMsghdrs + i * MMSGHDR_LENGTH;
            SocketStructs.msghdr(memory, msghdr, base + vectorSources + i * SOURCE_LENGTH, SOURCE_LENGTH,
                    base + vectorIovecs + i * IOVEC_LENGTH, 1);
            control(msghdr, vectorControls + i * GRO_CONTROL_LENGTH);
            SocketStructs.iovec(memory, vectorIovecs + i * IOVEC_LENGTH, areaAddress + (long) i * SLOT_LENGTH, SLOT_LENGTH);
        }
        memory.putInt(POLLFD_OFFSET, fd);
        memory.putShort(POLLFD_OFFSET + 4, (short) Libc.POLLIN);
        long waitNanos = config.waitMicros() * 1000L;
        memory.putLong(TIMESPEC_OFFSET, waitNanos / 1_000_000_000L);
        memory.putLong(TIMESPEC_OFFSET + 8, waitNanos % 1_000_000_000L);
    }

    /** Gives the msghdr at {@code msghdr} its control buffer when GRO is on (the kernel shrinks msg_controllen: reset it per call). */
    private void control(int msghdr, int control) {
        if (gro) {
            memory.putLong(msghdr + MSG_CONTROL, blockAddress + control);
            memory.putLong(msghdr + MSG_CONTROLLEN, GRO_CONTROL_LENGTH);
        }
    }

    /**
     * Offers what the last receive left in the receive area, then takes what the socket holds, up
     * to {@code batch} datagrams and {@code messages} completed messages; returns how many
     * datagrams it took, or 1 when it only went on with those left (work was done).
     */
    int poll() {
        messageBudget = config.pollMessages();
        if (!offerReceived()) {
            return held ? 0 : 1;
        }
        int limit = config.receiveBatch();
        int taken = 0;
        while (taken < limit) {
            endsMessage = false;
            if (copying) {
                int want = Math.min(ask, limit - taken);
                for (int i = 0; i < want; i++) {
                    int msghdr = vectorMsghdrs + i * MMSGHDR_LENGTH;
                    memory.putInt(msghdr + MSG_NAMELEN, SOURCE_LENGTH);
                    if (gro) {
                        memory.putLong(msghdr + MSG_CONTROLLEN, GRO_CONTROL_LENGTH);
                    }
                }
                int n = Libc.recvmmsg(fd, blockAddress + vectorMsghdrs, want, Libc.MSG_DONTWAIT);
                counters.increment(RECEIVE_CALLS);
                ask = n <= 0 ? 1 : n < want ? n : Math.min(vector, 2 * want);
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
                resetReceiveMsghdr();
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
                counters.add(BYTES_RECEIVED, length);
                if (!place((int) length)) {
                    break; // held for the NIC
                }
            }
            if (endsMessage) {
                break; // let the caller see the completion now rather than after one more system call
            }
        }
        return taken;
    }

    /**
     * A frame received earlier waits for the NIC to take it (it was busy), or the last poll left frames
     * for the next: no reason to wait for the socket.
     */
    boolean holding() {
        return held || frameAt < datagramEnd || nextSlot < received;
    }

    /** Blocks up to the configured wait for the socket to become readable. */
    void idle() {
        Libc.ppoll(blockAddress + POLLFD_OFFSET, 1, blockAddress + TIMESPEC_OFFSET);
    }

    private void resetReceiveMsghdr() {
        memory.putInt(RECEIVE_MSGHDR_OFFSET + MSG_NAMELEN, SOURCE_LENGTH);
        if (gro) {
            memory.putLong(RECEIVE_MSGHDR_OFFSET + MSG_CONTROLLEN, GRO_CONTROL_LENGTH);
        }
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
            if (messageBudget <= 0) {
                return false; // this poll completed its messages: the next datagrams wait for the next poll
            }
            int s = nextSlot++;
            int msghdr = vectorMsghdrs + s * MMSGHDR_LENGTH;
            long length = memory.getInt(msghdr + MSG_LEN) & 0xFFFF_FFFFL;
            counters.add(BYTES_RECEIVED, length);
            openDatagram(s, (int) length, segmentSizeOf(msghdr, vectorControls + s * GRO_CONTROL_LENGTH));
        }
    }

    /** The GRO segment size the receive into {@code msghdr} reported, or {@link GroRun#NONE}. */
    private int segmentSizeOf(int msghdr, int control) {
        return gro ? GroRun.segmentSize(memory, msghdr, control) : GroRun.NONE;
    }

    private void openDatagram(int s, int length, int gsoSize) {
        slot = s;
        frameAt = s * SLOT_LENGTH;
        datagramEnd = frameAt + length;
        if (gsoSize == GroRun.NONE) {
            counters.increment(DATAGRAMS_RECEIVED);
            segmentSize = length;
            segmentEnd = datagramEnd;
            if (length == 0) {
                count(WireDropReason.SHORT_DATAGRAM);
            }
            return;
        }
        WireDropReason bad = GroRun.check(gsoSize, length);
        if (bad != null) {
            counters.increment(DATAGRAMS_RECEIVED);
            count(bad);
            frameAt = datagramEnd;
            return;
        }
        int segments = (length + gsoSize - 1) / gsoSize;
        counters.add(DATAGRAMS_RECEIVED, segments);
        counters.increment(GRO_RUNS);
        counters.add(GRO_SEGMENTS, segments);
        segmentSize = gsoSize;
        segmentEnd = frameAt + gsoSize;
        copying = true; // runs arrive whole: take them by recvmmsg
        smallStreak = 0;
    }

    /**
     * Offers the frames of the datagram in {@link #slot} from {@link #frameAt} on, segment by segment
     * for a GRO run. A frame that fails a check is counted and ends its segment: its lengths cannot be
     * trusted to find the next frame. Returns false when the NIC was busy and the frame is held.
     */
    private boolean offerFrames() {
        while (frameAt < datagramEnd) {
            if (!held) {
                if (frameAt >= segmentEnd) {
                    segmentEnd = Math.min(segmentEnd + segmentSize, datagramEnd);
                }
                WireDropReason bad = WireFrame.decode(slots, frameAt, segmentEnd - frameAt, frame, crc);
                if (bad != null) {
                    count(bad);
                    frameAt = segmentEnd;
                    continue;
                }
                counters.increment(FRAMES_RECEIVED);
                frame.flags &= ~WireFrame.FLAG_MORE;
                readSource(slot, frame.source);
                endsMessage |= frame.fragmentOffset + frame.fragmentLength == frame.messageLength;
                if (frame.fragmentLength > config.copyBreak() && segmentSize == datagramEnd - slot * SLOT_LENGTH) {
                    copying = false; // large plain frames are arriving: place them directly from the next datagram on
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
            if (frame.fragmentOffset + frame.fragmentLength == frame.messageLength && --messageBudget <= 0
                    && frameAt < datagramEnd) {
                return false; // the frames after this one wait in the slot for the next poll
            }
        }
        return true;
    }

    /**
     * The datagram at the head of the queue is {@code length} bytes and its header has been peeked:
     * checks the header, asks the NIC where the payload goes, and receives it straight there. A
     * coalesced datagram or a GRO run is received whole into slot 0 and its frames offered as when
     * copying. Returns false when the NIC was busy with a frame of such a datagram (held).
     */
    private boolean place(int length) {
        if (length - WireFrame.HEADER_LENGTH <= config.copyBreak()) {
            if (++smallStreak >= SMALL_STREAK) {
                copying = true;
            }
        } else {
            smallStreak = 0;
        }
        int gsoSize = segmentSizeOf(RECEIVE_MSGHDR_OFFSET, RECEIVE_CONTROL_OFFSET);
        if (gsoSize != GroRun.NONE) {
            return receiveWhole(length);
        }
        WireDropReason bad = WireFrame.decode(slots, 0, length, frame, crc);
        if (bad != null) {
            counters.increment(DATAGRAMS_RECEIVED);
            count(bad);
            discard();
            return true;
        }
        if (WireFrame.isFollowed(frame)) {
            return receiveWhole(length);
        }
        counters.increment(DATAGRAMS_RECEIVED);
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

    /** Receives the peeked datagram of {@code length} bytes whole into slot 0 and offers its frames (held: false). */
    private boolean receiveWhole(int length) {
        memory.putLong(RECEIVE_IOV_OFFSET + IOV_LEN, SLOT_LENGTH);
        resetReceiveMsghdr();
        long whole = Libc.recvmsg(fd, blockAddress + RECEIVE_MSGHDR_OFFSET, Libc.MSG_TRUNC | Libc.MSG_DONTWAIT);
        if (whole != length) {
            counters.increment(DATAGRAMS_RECEIVED);
            count(WireDropReason.INCONSISTENT_RECEIVE);
            return true;
        }
        received = 0;
        nextSlot = 0;
        openDatagram(0, length, segmentSizeOf(RECEIVE_MSGHDR_OFFSET, RECEIVE_CONTROL_OFFSET));
        return offerFrames();
    }

    /** The sender of the datagram in slot {@code s}, from the source sockaddr the kernel wrote. */
    private void readSource(int s, SourceKey into) {
        UdpAddress.sourceKey(memory, vectorSources + s * SOURCE_LENGTH, into);
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

    /** One of the counters above, from any thread. */
    long count(int counter) {
        return counters.get(counter);
    }

    /** Frees the native memory; the socket is the transport's to close. */
    void close() {
        block.close();
        area.close();
    }
}
