package org.unetmm.nic.udp;

import org.unetmm.internal.Counters;
import static org.unetmm.nic.udp.SocketStructs.IOVEC_LENGTH;
import static org.unetmm.nic.udp.SocketStructs.IOV_LEN;
import static org.unetmm.nic.udp.SocketStructs.MAX_IOV;
import static org.unetmm.nic.udp.SocketStructs.MMSGHDR_LENGTH;
import static org.unetmm.nic.udp.SocketStructs.MSG_IOVLEN;
import static org.unetmm.nic.udp.SocketStructs.MSG_LEN;
import static org.unetmm.nic.udp.SocketStructs.MSG_NAMELEN;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.unetmm.pinning.KernelException;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.Errno;
import org.unetmm.pinning.internal.Libc;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.TransmitListener;

/**
 * The udp wire's sends of one progress round, leaving with one {@code sendmmsg(2)}: the fragments
 * {@link UdpTransport#transmit} takes are queued here as datagrams of iovecs, and sent when the
 * round ends (the engine's {@code Transport.poll}, which runs after its send loop), when the batch
 * is full, or on {@code flush}. Nothing waits for company: a lone fragment leaves at the end of
 * the round it was queued in.
 *
 * <p><b>Zero copy, completed later.</b> A payload larger than {@link UdpConfig#sendCopy()} is
 * {@linkplain PayloadSource#retain() retained}: its iovecs point into the sender's pinned pages
 * (or its fixed segment), and the NIC completes the send only when {@link #send} has handed the
 * datagram to the kernel and released the token ({@link TransmitListener#released}). Smaller
 * payloads, and those the NIC cannot let be kept (its own control-frame memory), are copied into
 * the batch's staging area: for a few dozen bytes a copy costs less than a pin of the wire's own.
 *
 * <p><b>Coalescing.</b> A whole message (one fragment) for the same peer as the datagram queued
 * last joins it as one more frame, while the datagram stays within the wire's MTU (one IP packet
 * off loopback) and {@code UIO_MAXIOV} iovecs; the frame before it gets {@link WireFrame#FLAG_MORE}
 * (see {@link WireFrame} for the layout). Fragments of larger messages fill datagrams of their own.
 *
 * <p><b>GSO.</b> With {@code gso} on, a fragment that does not join the datagram queued last as a
 * frame may join it as a UDP GSO segment: same peer, no longer than the datagram's first segment,
 * the datagram still under {@value SocketStructs#MAX_SEGMENTS} segments and
 * {@link WireFrame#MAX_DATAGRAM} bytes. The datagram then carries a {@code UDP_SEGMENT} cmsg naming
 * its first segment's length, and the kernel cuts it there: every segment is one whole wire datagram
 * as it would have been sent alone (segments are never coalesced into further), so a receiver
 * without GRO reads it unchanged. A segment shorter than the first is the last (the kernel's rule:
 * all equal but the last). The fragments of a large message toward an MTU-limited path are such a
 * run, and so are back-to-back full-size messages. The segment length is at most the datagram limit,
 * the path's MTU, which the kernel also requires. A kernel that takes {@code UDP_SEGMENT} but then
 * refuses a super-datagram ({@code EIO}: a device without checksum offload) loses that one, as UDP
 * loses, and the batch sends without GSO from then on (one log line).
 *
 * <p><b>MSG_ZEROCOPY.</b> With {@code zerocopy=BYTES}, a retained fragment of at least that many bytes
 * goes to the {@link ZeroCopyNotifications}, which keeps its token and its wire header until the
 * kernel's error-queue notice covers its send; such fragments share datagrams only with each other,
 * and a run of such datagrams leaves in a {@code sendmmsg} flagged {@code MSG_ZEROCOPY} of its own
 * (the flag is per call), the others in calls without it, in queue order. The kernel holds one
 * zero-copy skb's pages in at most {@value #MAX_SKB_FRAGS} frags, so a datagram (a GSO run) takes
 * zero-copy fragments only while the pages its iovecs touch stay within that, and a fragment that
 * alone touches more (a 64 KB fragment: 17 pages and its header's) is sent the ordinary way.
 *
 * <p>Back-pressure: the kernel sends a prefix of the batch and stops at the first datagram it
 * cannot take; the rest stays queued, in order, and goes first next time. {@link #hasRoom} is
 * false while the batch is full, and {@code transmit} then returns false.
 *
 * <pre>
 *  the batch (one page-aligned allocation; the structs are drawn in {@link SocketStructs})
 *       0  mmsghdr[64]        one per datagram
 *    4096  sockaddr_in[64]    each datagram's destination
 *    5120  header[512]        72-byte wire headers, one per frame
 *   41984  iovec[4096]        [header] [payload pieces] per frame, each datagram's in a run
 *  107520  control[64]        24 bytes per datagram: its UDP_SEGMENT cmsg when it is a GSO run
 *  109056  staging (256 KiB)  copied payloads
 *  371200  end
 * </pre>
 *
 * Engine thread only (the NIC's progress thread, engine lock held); the counters are
 * single-writer and may be read from any thread.
 */
final class SendBatch {
    private static final Logger LOG = LoggerFactory.getLogger(SendBatch.class);
    private static final int SOCKADDR_LENGTH = 16;
    /** errno of a GSO send the device cannot segment (no checksum offload). */
    private static final int EIO = 5;
    private static final int MAX_GATHER = MAX_IOV - 1;
    /**
     * The kernel's MAX_SKB_FRAGS (17 unless configured larger): a zero-copy send puts each page its iovecs
     * touch in a frag of one skb (a GSO run too) and refuses the send with EMSGSIZE past this many.
     */
    static final int MAX_SKB_FRAGS = 17;
    /** Datagrams per sendmmsg. */
    static final int DATAGRAMS = 64;
    /** Frames per batch. */
    static final int FRAMES = 512;
    private static final int IOVECS = 4096;
    private static final int STAGING_LENGTH = 256 * 1024;
    // the batch
    private static final int MMSGHDR_OFFSET = 0;
    private static final int SOCKADDR_OFFSET = MMSGHDR_OFFSET + DATAGRAMS * MMSGHDR_LENGTH;
    private static final int HEADER_OFFSET = SOCKADDR_OFFSET + DATAGRAMS * SOCKADDR_LENGTH;
    private static final int IOVEC_OFFSET = HEADER_OFFSET + FRAMES * WireFrame.HEADER_LENGTH;
    private static final int CONTROL_OFFSET = IOVEC_OFFSET + IOVECS * IOVEC_LENGTH;
    private static final int STAGING_OFFSET = CONTROL_OFFSET + DATAGRAMS * SocketStructs.SEGMENT_CONTROL_LENGTH;
    private static final int LENGTH = STAGING_OFFSET + STAGING_LENGTH;
    /** Flush attempts of a back-pressured batch before {@link #flush} fails what is left. */
    private static final int FLUSH_ATTEMPTS = 10_000;

    private final int fd;
    private final int datagramLimit;
    private final int sendCopy;
    private final NativeBuffer native_;
    private final ByteBuffer memory;
    private final long base;
    private final CRC32C crc = new CRC32C();
    private final long[] gatherAddresses = new long[MAX_GATHER];
    private final int[] gatherLengths = new int[MAX_GATHER];
    /** Per frame: the NIC's token, or NOT_RETAINABLE for a copied payload. */
    private final long[] tokens = new long[FRAMES];
    /** Per datagram: its first frame, its bytes, its iovecs, its destination, whether more frames may join. */
    private final int[] firstFrame = new int[DATAGRAMS];
    private final int[] datagramBytes = new int[DATAGRAMS];
    private final int[] datagramIovecs = new int[DATAGRAMS];
    private final long[] destinations = new long[DATAGRAMS];
    private final boolean[] joinable = new boolean[DATAGRAMS];
    /** Per datagram: its GSO segments (1 = a plain datagram), their length, whether one more may join. */
    private final int[] segments = new int[DATAGRAMS];
    private final int[] segmentLength = new int[DATAGRAMS];
    private final boolean[] segmentable = new boolean[DATAGRAMS];
    /** Per datagram: whether its fragments went to {@link #zeroCopy} (it leaves with MSG_ZEROCOPY). */
    private final boolean[] zeroCopied = new boolean[DATAGRAMS];
    /** Per zero-copy datagram: the pages its iovecs touch, at most {@link #MAX_SKB_FRAGS}. */
    private final int[] zeroCopyPages = new int[DATAGRAMS];
    /** Null with zerocopy off; else fragments of at least {@link #zeroCopyBytes} go zero-copy through it. */
    private final ZeroCopyNotifications zeroCopy;
    private final int zeroCopyBytes;
    /** Where the last frame's header was written (the batch's memory or the zero-copy ring), for FLAG_MORE. */
    private ByteBuffer lastHeaderMemory;
    private int lastHeaderAt;
    /**
     * Whether the last frame's header carries its checksum yet: each header is checksummed once, when
     * the frame after it has decided its FLAG_MORE, or when the batch goes to the kernel.
     */
    private boolean lastSealed = true;
    /** Where the last iovec of the datagram queued last ends, when that was a staged frame (else 0). */
    private long lastIovecEnd;
    /** The staging index of the header of the frame {@link #stage} staged last. */
    private int stagedHeaderAt;
    private boolean gso;
    private TransmitListener listener;
    private int datagrams;
    /** Datagrams [0, sent) of this batch are with the kernel. */
    private int sent;
    private int frames;
    private int iovecs;
    private int stagingUsed;

    // counters: written by the NIC thread that drives the wire, read by its stats() anywhere
    static final int DATAGRAMS_SENT = 0;
    static final int FRAMES_SENT = 1;
    static final int BYTES_SENT = 2;
    static final int SEND_CALLS = 3;
    static final int SEND_BACK_PRESSURED = 4;
    static final int SENDS_LOST = 5;
    static final int GATHER_COPIES = 6;
    static final int GSO_SENDS = 7;
    static final int GSO_SEGMENTS = 8;
    private final Counters counters = new Counters(9);

    /**
     * A batch for socket {@code fd}: datagrams (GSO segments) of at most {@code datagramLimit} bytes,
     * payloads up to {@code sendCopy} copied, runs sent as GSO super-datagrams when {@code gso}, fragments
     * of at least {@code zeroCopyBytes} sent with MSG_ZEROCOPY through {@code zeroCopy} (null: never).
     */
    SendBatch(int fd, int datagramLimit, int sendCopy, boolean gso, ZeroCopyNotifications zeroCopy, int zeroCopyBytes) {
        this.fd = fd;
        this.zeroCopy = zeroCopy;
        this.zeroCopyBytes = zeroCopyBytes;
        this.gso = gso;
        this.datagramLimit = datagramLimit;
        this.sendCopy = sendCopy;
        this.native_ = NativeMemory.allocate(LENGTH);
        this.memory = native_.buffer().order(ByteOrder.LITTLE_ENDIAN);
        this.base = native_.address();
    }

    /** Whether runs still leave as GSO super-datagrams. */
    boolean gso() {
        return gso;
    }

    void start(TransmitListener transmitted) {
        this.listener = transmitted;
    }

    /** Whether one more fragment of any size fits (else {@link #send} first). */
    boolean hasRoom() {
        return datagrams < DATAGRAMS && frames < FRAMES && iovecs + MAX_IOV <= IOVECS
                && stagingUsed + WireFrame.MAX_DATAGRAM <= STAGING_LENGTH;
    }

    /** Datagrams queued and not yet with the kernel. */
    int pending() {
        return datagrams - sent;
    }

    /**
     * Queues one fragment for {@code destination} (a sockaddr_in's first 8 bytes). Call only with
     * {@link #hasRoom}. A translation failure of the payload propagates (the NIC keeps it and fails
     * the send) and leaves the batch as it was.
     */
    void add(long destination, FrameHeader header, PayloadSource payload) {
        int length = header.fragmentLength;
        int pieces = 0;
        long token = PayloadSource.NOT_RETAINABLE;
        boolean staged = length <= sendCopy;
        if (!staged) {
            pieces = payload.gather(gatherAddresses, gatherLengths, MAX_GATHER);
            if (pieces < 0) {
                counters.increment(GATHER_COPIES);
                staged = true;
            } else {
                token = payload.retain();
                staged = token == PayloadSource.NOT_RETAINABLE; // the NIC's own reused memory: keep a copy
            }
        }
        if (staged) {
            stage(payload, length);
            pieces = 0; // the payload follows its header in the same run of bytes
        }
        boolean whole = header.fragmentOffset == 0 && length == header.messageLength;
        int bytes = WireFrame.HEADER_LENGTH + length;
        int d = datagrams - 1;
        int pages = 0;
        if (token != PayloadSource.NOT_RETAINABLE && zeroCopy != null && length >= zeroCopyBytes) {
            pages = 2; // the header's ring slot may straddle a page boundary
            for (int i = 0; i < pieces; i++) {
                pages += (int) ((gatherAddresses[i] + gatherLengths[i] - 1 >>> 12) - (gatherAddresses[i] >>> 12) + 1);
            }
        }
        boolean zc = pages > 0 && zeroCopy.canClaim(pages <= MAX_SKB_FRAGS);
        ByteBuffer headerMemory = memory;
        int at = staged ? stagedHeaderAt : HEADER_OFFSET + frames * WireFrame.HEADER_LENGTH;
        long headerAddress = base + at;
        if (zc) { // the kernel reads the header until its notice too: it lives in the zero-copy ring
            headerMemory = zeroCopy.memory();
            at = ZeroCopyNotifications.headerAt(zeroCopy.claim(token));
            headerAddress = zeroCopy.address() + at;
            token = PayloadSource.NOT_RETAINABLE; // released by the notifications, not by this batch
        }
        WireFrame.encodeUnsealed(header, headerMemory, at);
        boolean same = d >= sent && destinations[d] == destination && zeroCopied[d] == zc
                && (!zc || zeroCopyPages[d] + pages <= MAX_SKB_FRAGS);
        boolean joins = whole && same && joinable[d]
                && datagramBytes[d] + bytes <= datagramLimit && datagramIovecs[d] + 1 + pieces <= MAX_IOV;
        if (joins) {
            WireFrame.setFollowed(lastHeaderMemory, lastHeaderAt); // the frame before is this one's neighbour
        } else if (gso && same && segmentable[d]
                && bytes <= (segments[d] == 1 ? datagramBytes[d] : segmentLength[d])
                && datagramBytes[d] + bytes <= WireFrame.MAX_DATAGRAM && datagramIovecs[d] + 1 + pieces <= MAX_IOV) {
            if (segments[d] == 1) { // the first segment is complete: its length is the run's
                segmentLength[d] = datagramBytes[d];
                int control = CONTROL_OFFSET + d * SocketStructs.SEGMENT_CONTROL_LENGTH;
                SocketStructs.segmentControl(memory, control, segmentLength[d]);
                int msghdr = MMSGHDR_OFFSET + d * MMSGHDR_LENGTH;
                memory.putLong(msghdr + SocketStructs.MSG_CONTROL, base + control);
                memory.putLong(msghdr + SocketStructs.MSG_CONTROLLEN, SocketStructs.SEGMENT_CONTROL_LENGTH);
            }
            segments[d]++;
            joinable[d] = false; // a frame joining now would straddle the kernel's cut
            segmentable[d] = bytes == segmentLength[d] && segments[d] < SocketStructs.MAX_SEGMENTS;
        } else {
            d = datagrams++;
            firstFrame[d] = frames;
            datagramBytes[d] = 0;
            datagramIovecs[d] = 0;
            destinations[d] = destination;
            joinable[d] = whole;
            segments[d] = 1;
            segmentable[d] = true;
            zeroCopied[d] = zc;
            zeroCopyPages[d] = 0;
            int name = SOCKADDR_OFFSET + d * SOCKADDR_LENGTH;
            memory.putLong(name, destination);
            memory.putLong(name + 8, 0);
            SocketStructs.msghdr(memory, MMSGHDR_OFFSET + d * MMSGHDR_LENGTH, base + name, SOCKADDR_LENGTH,
                    base + IOVEC_OFFSET + (long) iovecs * IOVEC_LENGTH, 0);
        }
        if (lastHeaderMemory != null && (!lastSealed || joins)) {
            WireFrame.seal(lastHeaderMemory, lastHeaderAt, crc); // no change to it follows: checksum it once
        }
        lastHeaderMemory = headerMemory;
        lastHeaderAt = at;
        lastSealed = false;
        int added;
        if (staged) { // header and payload side by side: one iovec, or the last one grown when this frame follows it
            long end = headerAddress + bytes;
            if (datagramIovecs[d] > 0 && lastIovecEnd == headerAddress) {
                int last = IOVEC_OFFSET + (iovecs - 1) * IOVEC_LENGTH + IOV_LEN;
                memory.putLong(last, memory.getLong(last) + bytes);
                added = 0;
            } else {
                iovec(headerAddress, bytes);
                added = 1;
            }
            lastIovecEnd = end;
        } else {
            iovec(headerAddress, WireFrame.HEADER_LENGTH);
            for (int i = 0; i < pieces; i++) {
                iovec(gatherAddresses[i], gatherLengths[i]);
            }
            added = 1 + pieces;
            lastIovecEnd = 0;
        }
        tokens[frames++] = token;
        zeroCopyPages[d] += zc ? pages : 0;
        datagramBytes[d] += bytes;
        datagramIovecs[d] += added;
        memory.putLong(MMSGHDR_OFFSET + d * MMSGHDR_LENGTH + MSG_IOVLEN, datagramIovecs[d]);
    }

    private void iovec(long address, long length) {
        SocketStructs.iovec(memory, IOVEC_OFFSET + iovecs++ * IOVEC_LENGTH, address, length);
    }

    /**
     * Copies the payload into staging behind room for its header ({@link #stagedHeaderAt}), right
     * after the frame staged before it, so a datagram of staged frames is one run of bytes.
     */
    private void stage(PayloadSource payload, int length) {
        stagedHeaderAt = STAGING_OFFSET + stagingUsed;
        if (length > 0) {
            payload.copyTo(0, memory, stagedHeaderAt + WireFrame.HEADER_LENGTH, length);
        }
        stagingUsed += WireFrame.HEADER_LENGTH + length;
    }

    /**
     * Hands the queued datagrams to the kernel, as many per {@code sendmmsg} as it takes, and
     * releases the fragments of each one sent. Returns false when the kernel pushed back with
     * datagrams still queued (they go first next time). A datagram the kernel refuses for good
     * (unreachable, too long, a firewall) is lost, as UDP loses, counted, and its sends complete.
     */
    boolean send() {
        if (lastHeaderMemory != null && !lastSealed) {
            WireFrame.seal(lastHeaderMemory, lastHeaderAt, crc);
            lastSealed = true;
        }
        while (sent < datagrams) {
            boolean zc = zeroCopied[sent];
            int run = 1;
            while (sent + run < datagrams && zeroCopied[sent + run] == zc) {
                run++; // MSG_ZEROCOPY is the call's flag: one call per run of datagrams of one kind
            }
            int n;
            try {
                n = Libc.sendmmsg(fd, base + MMSGHDR_OFFSET + (long) sent * MMSGHDR_LENGTH, run,
                        Libc.MSG_DONTWAIT | (zc ? SocketStructs.MSG_ZEROCOPY : 0));
            } catch (KernelException e) {
                if (segments[sent] == 1 || (e.errno() != EIO && e.errno() != Errno.EINVAL)) {
                    throw e;
                }
                if (gso) {
                    LOG.info("udp wire: the kernel refused a GSO send ({}); sending without GSO from now on", e.getMessage());
                }
                gso = false;
                n = -e.errno();
            }
            counters.increment(SEND_CALLS);
            if (n > 0) {
                for (int i = 0; i < n; i++) {
                    int d = sent + i;
                    counters.add(BYTES_SENT, memory.getInt(MMSGHDR_OFFSET + d * MMSGHDR_LENGTH + MSG_LEN) & 0xFFFF_FFFFL);
                    if (segments[d] > 1) {
                        counters.increment(GSO_SENDS);
                        counters.add(GSO_SEGMENTS, segments[d]);
                    }
                    counters.add(DATAGRAMS_SENT, segments[d]); // datagrams on the wire: the kernel's cut of a run
                    if (zc) {
                        zeroCopy.sent(frameCount(d)); // one message of sendmmsg, one counter
                    }
                    release(d, null);
                }
                sent += n;
            } else if (n == -Errno.EAGAIN || n == -Errno.ENOBUFS || n == -Errno.EINTR) {
                counters.increment(SEND_BACK_PRESSURED);
                return false;
            } else {
                counters.increment(SENDS_LOST);
                if (zc) {
                    zeroCopy.lost(frameCount(sent));
                }
                release(sent++, null); // lost on the wire, as UDP loses: the unreliable send still completes
            }
        }
        datagrams = 0;
        sent = 0;
        frames = 0;
        iovecs = 0;
        stagingUsed = 0;
        return true;
    }

    private int frameCount(int d) {
        return (d + 1 < datagrams ? firstFrame[d + 1] : frames) - firstFrame[d];
    }

    /** The frames of datagram {@code d} are done with: their retained fragments go back to the NIC. */
    private void release(int d, String failure) {
        int end = d + 1 < datagrams ? firstFrame[d + 1] : frames;
        counters.add(FRAMES_SENT, failure == null ? end - firstFrame[d] : 0);
        for (int f = firstFrame[d]; f < end; f++) {
            long token = tokens[f];
            if (token != PayloadSource.NOT_RETAINABLE) {
                tokens[f] = PayloadSource.NOT_RETAINABLE;
                listener.released(token, failure);
            }
        }
    }

    /**
     * Sends everything queued before returning, retrying a back-pressured kernel for a while, and
     * fails what still cannot go: after this the wire holds nothing ({@code Transport.flush}).
     */
    void flush() {
        for (int attempt = 0; attempt < FLUSH_ATTEMPTS && !send(); attempt++) {
            Thread.onSpinWait();
        }
        fail("the udp socket stayed back-pressured while the wire was flushed");
    }

    /** Releases everything still queued as failed, and empties the batch. */
    void fail(String why) {
        while (sent < datagrams) {
            if (listener != null) {
                release(sent, why);
            }
            sent++;
        }
        if (zeroCopy != null && listener != null) {
            zeroCopy.abandonQueued(why);
        }
        lastHeaderMemory = null; // its frame is gone: nothing to checksum
        lastSealed = true;
        datagrams = 0;
        sent = 0;
        frames = 0;
        iovecs = 0;
        stagingUsed = 0;
    }

    void close() {
        native_.close();
    }

    /** One of the counters above, from any thread. */
    long count(int slot) {
        return counters.get(slot);
    }

    /** A fragment handed in after the wire closed: lost. */
    void countLost() {
        counters.increment(SENDS_LOST);
    }
}
