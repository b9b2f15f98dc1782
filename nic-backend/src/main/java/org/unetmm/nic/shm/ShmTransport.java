package org.unetmm.nic.shm;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.unetmm.Nic;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.Inbound;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.TransmitListener;
import org.unetmm.spi.Transport;

/**
 * The shm wire: NICs in processes of one host, named {@code shm:name}, each pair of them sharing a
 * region under {@code /dev/shm} ({@link ShmRegion}; found through {@link ShmDirectory}). Channel
 * addresses are {@code shm:name/tag}. A listener (an RPC server) opens {@code shm:server}; each
 * client NIC ({@code shm:} draws it a name) gets a region of its own with it when its first
 * channel connects, and the listener picks the region up on its next progress round.
 *
 * <p><b>Two ways across.</b> A fragment of at most {@link ShmConfig#eagerBytes()} travels
 * <em>inline</em>: the sender's NIC copies it into its frame ring, the receiver's copies it out into
 * the posted buffer ({@link Inbound#onFragment} over the record in the ring). A larger one goes by
 * <em>rendezvous</em>, as U-Net/MM's NIC DMAs from the sender's pinned pages: the sender
 * {@linkplain PayloadSource#retain() retains} the fragment and posts (its pid, the translated
 * pieces {@link PayloadSource#gather} named, a sequence number) in a record; the receiver's NIC
 * {@linkplain Inbound#claim claims} a placement and reads the pieces with {@code process_vm_readv(2)}
 * straight into it, one copy, then posts a completion (the sequence number and 0 or the errno)
 * into its completion ring; the sender releases the token then and the send completes (DESIGN
 * invariant 6: the pages stay pinned until the peer's read finished). This is UCX's {@code cma}
 * and MPICH's CMA rendezvous. Rendezvous needs both sides able to use cross-memory attach
 * ({@link CrossMemoryAttach}, announced in the region); otherwise everything travels inline, and
 * the NIC says so once in its log.
 *
 * <p><b>The fixed segment</b> lives in shared memory, as base U-Net's communication segment: this
 * wire {@linkplain #segmentMemory provides} each endpoint's segment as a sealed memfd its peers
 * map, found through a file under /dev/shm ({@link ShmSegment}). A fixed-path fragment, already
 * copied into the segment when it was sent, travels as a <em>segment frame</em> naming (segment,
 * offset, length); the peer's NIC copies it
 * out of its mapping into the posted buffer and posts a completion as for a rendezvous, and only
 * then is the fragment released, the send completed and its segment space reused: two copies,
 * whatever the size, and no cross-memory attach needed. The peer checks the segment and every
 * (offset, length) against its bounds before the copy.
 *
 * <p><b>Failure.</b> Read errors (EFAULT, ESRCH, EPERM) are counted by reason and fail that send
 * (its completion reports the errno). A peer whose heartbeat stays silent for
 * {@link ShmConfig#peerTimeoutMillis()}, or that marked its side closed, is dead: every rendezvous
 * it had not completed is released failed (the sends complete {@code PEER_UNREACHABLE}), its region
 * is removed, and a later send to it fails the same way on every path (counted lost), rather than
 * completing as if it had left. Regions and homes left by killed processes are
 * removed when a NIC opens.
 *
 * <p><b>Hostile input.</b> Anything read from a region is checked before use ({@link FrameRing},
 * {@link ShmFrame}); what fails is dropped, counted by {@link ShmDropReason}, and written nowhere:
 * an inline payload is copied only within its record and the placement the NIC gave, a
 * rendezvous read targets only the placement, and a completion must name a rendezvous
 * outstanding to that peer.
 *
 * <p>The receive side (records in, rendezvous reads, completions back) is {@link Receiver}; this
 * class keeps the peers, the send side, liveness and close.
 *
 * <p>Threading: as the SPI says, one NIC thread at a time; counters single-writer, readable from
 * any thread through {@link #stats()}.
 */
public final class ShmTransport implements Transport {
    /**
     * Whether processes of this user may read each other's memory on this machine, as a NIC finds
     * when it opens.
     *
     * @return null when they may (large messages go by rendezvous), else why not, naming the fix
     */
    public static String crossMemoryAttachRefusal() {
        CrossMemoryAttach probe = CrossMemoryAttach.probe();
        return probe.allowed() ? null : probe.reason();
    }

    private static final Logger LOG = LoggerFactory.getLogger(ShmTransport.class);
    private static final ConcurrentHashMap<String, ShmTransport> OPEN = new ConcurrentHashMap<>();
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static final AtomicLong NUMBERS = new AtomicLong();
    /** Segment numbers, unique in this process, so a peer never takes a new segment for an old one's mapping. */
    private static final AtomicInteger SEGMENT_NUMBERS = new AtomicInteger();
    private static final long BEAT_NANOS = 1_000_000;
    /**
     * A poll reads the clock (for heartbeats and liveness) once in this many polls, or after this many
     * records: a clock read costs 30-70 ns here, as much as taking a small record, and a beat or a
     * liveness check a few hundred microseconds late is nothing against a timeout of 10 ms or more.
     */
    private static final int CLOCK_POLLS = 16;
    private static final int CLOCK_RECORDS = 64;
    /** How long an open waits for a region another process is filling. */
    private static final long OPEN_WAIT_NANOS = 2_000_000_000L;

    private final ShmConfig config;
    private final String address;
    private final ProcessIdentity self = ProcessIdentity.self();
    private final int pid = self.pid();
    private final int mtu;
    private final CrossMemoryAttach cma;
    private final boolean rendezvous;
    private final ShmDirectory.Home home;
    private long seenGeneration = -1;
    private final Map<String, ShmPeer> byName = new HashMap<>();
    private ShmPeer[] peers = new ShmPeer[0];
    private boolean closed;
    // send scratch
    private final long[] gatherAddresses = new long[ShmFrame.MAX_PIECES];
    private final int[] gatherLengths = new int[ShmFrame.MAX_PIECES];
    private final Receiver receiver = new Receiver();
    /** This NIC's shared segments, copy-on-write: the NIC thread reads it, a free listener may write it. */
    private volatile ShmSegment[] segments = new ShmSegment[0];
    private final Object segmentLock = new Object();
    private final NativeMemory.FreeListener segmentFreed = this::segmentFreed;
    private long lastBeatAt;
    private int pollsSinceClock = CLOCK_POLLS; // the first poll reads it
    private int recordsSinceClock;
    private long beats;
    // counters (single writer)
    private volatile long inlineSent;
    private volatile long rendezvousSent;
    private volatile long segmentSent;
    private volatile long sendBackPressured;
    private volatile long sendsLost;
    private volatile long peersLost;

    /**
     * Opens this NIC's home region under the shm directory (removing regions their dead owners left) and
     * probes cross-memory attach; the transport owns the region until {@link #close()} deletes it.
     *
     * @param config the validated name and sizes, not null
     * @throws ShmException if a NIC of that name is already open in this process or on this host, or the
     *         region cannot be created; the message names the fix
     */
    public ShmTransport(ShmConfig config) {
        this.config = config;
        this.address = config.address();
        this.mtu = config.ringBytes() / 4;
        ShmDirectory.removeStale();
        this.cma = config.crossMemoryAttach() ? CrossMemoryAttach.probe()
                : CrossMemoryAttach.switchedOff();
        this.rendezvous = cma.allowed();
        if (config.crossMemoryAttach() && !rendezvous) {
            LOG.warn("{}: cross-memory attach is not available, large messages travel inline (two copies): {}", address,
                    cma.reason());
        } else {
            LOG.debug("{}: {}", address, cma.description());
        }
        this.home = ShmDirectory.createHome(config.name(), self);
        this.lastBeatAt = System.nanoTime();
        NativeMemory.addFreeListener(segmentFreed);
        OPEN.put(address, this);
    }

    static String freshName() {
        return "c" + ProcessHandle.current().pid() + "-" + NAMES.incrementAndGet();
    }

    /**
     * The shm transport behind {@code nic}, for its statistics.
     *
     * @param nic a NIC opened in this JVM with an {@code shm:} transport
     * @return its open transport, never null
     * @throws IllegalArgumentException if no open shm transport in this JVM has that NIC's address
     */
    public static ShmTransport of(Nic nic) {
        ShmTransport transport = OPEN.get(nic.transportAddress());
        if (transport == null) {
            throw new IllegalArgumentException("NIC at " + nic.transportAddress() + " has no open shm transport in this"
                    + " JVM: open it with NicConfig transport shm:name");
        }
        return transport;
    }

    /**
     * The configuration this transport was opened with.
     *
     * @return the validated configuration, never null
     */
    public ShmConfig config() {
        return config;
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public int mtu() {
        return mtu;
    }

    /**
     * Whether large fragments go by rendezvous from this NIC.
     *
     * @return true if cross-memory attach works and is wanted, so fragments above the eager limit are posted
     */
    public boolean rendezvousEnabled() {
        return rendezvous;
    }

    /**
     * Why rendezvous is off.
     *
     * @return the reason, naming the fix; empty when rendezvous is on
     */
    public String rendezvousUnavailableReason() {
        return cma.reason();
    }

    /**
     * What the cross-memory attach probe found and did when this NIC opened (Yama's ptrace_scope,
     * whether it called PR_SET_PTRACER, the test read), for the run record.
     *
     * @return one human-readable line, never null
     */
    public String crossMemoryAttachDescription() {
        return cma.description();
    }

    @Override
    public void start(Inbound inbound, TransmitListener transmitted) {
        receiver.start(inbound, transmitted);
    }

    @Override
    public Route route(String remoteAddress) {
        if (remoteAddress == null || !remoteAddress.startsWith("shm:")) {
            throw new IllegalArgumentException("not a shm address: '" + remoteAddress + "' (expected shm:name)");
        }
        String name = remoteAddress.substring("shm:".length());
        if (name.startsWith("//")) {
            name = name.substring(2);
        }
        if (name.equals(config.name())) {
            throw new IllegalArgumentException("a shm NIC cannot route to itself (" + remoteAddress + "): connect channels of"
                    + " one process through loopback:, or to another shm NIC");
        }
        ShmPeer known = byName.get(name);
        if (known != null && !known.dead) {
            return known;
        }
        new ShmConfig(name, 0, ShmConfig.DEFAULT_RING, ShmConfig.DEFAULT_TIMEOUT_MS, false,
                ShmConfig.DEFAULT_POLL_MESSAGES); // checks the name
        java.nio.file.Path peerHome = ShmDirectory.home(name);
        ShmRegion.checkOwnershipIfPresent(peerHome); // another user's NIC: say so, not "no NIC"
        ProcessIdentity holder = ShmDirectory.holder(peerHome);
        if (!holder.alive()) {
            throw new IllegalArgumentException("no NIC named " + remoteAddress + " on this host" + (holder.pid() > 0
                    ? " (its process " + holder.pid() + " is gone)" : "") + ": open one with NicConfig transport '"
                    + remoteAddress + "' first, or check the channel address");
        }
        ShmPeer peer = attach(name);
        ShmDirectory.announceTo(name);
        return peer;
    }

    private ShmPeer attach(String name) {
        ShmRegion region = ShmRegion.openOrCreate(ShmDirectory.pair(config.name(), name), ShmDirectory.side(config.name(), name),
                config.ringBytes(), ShmConfig.COMPLETION_SLOTS, OPEN_WAIT_NANOS);
        if (region.capacity != config.ringBytes()) {
            region.memory.clear();
            throw new ShmException("the region with shm:" + name + " has " + region.capacity + "-byte rings, this NIC asks for "
                    + config.ringBytes() + ": give both ends the same ring=");
        }
        region.announce(self, rendezvous);
        ShmPeer peer = new ShmPeer(name, region, NUMBERS.incrementAndGet(), System.nanoTime());
        byName.put(name, peer);
        ShmPeer[] grown = java.util.Arrays.copyOf(peers, peers.length + 1);
        grown[peers.length] = peer;
        peers = grown;
        return peer;
    }

    // ---- the fixed segment -----------------------------------------------------------------------

    /**
     * An endpoint's fixed segment as a sealed memfd that peers map, named by a file under
     * /dev/shm ({@link ShmSegment}), so its fixed-path fragments travel as segment frames; private
     * memory once the process has numbered {@value ShmSegment#MAX_NUMBER} segments.
     */
    @Override
    public NativeBuffer segmentMemory(int bytes) {
        int number = SEGMENT_NUMBERS.incrementAndGet();
        if (closed || number > ShmSegment.MAX_NUMBER) {
            return NativeMemory.allocate(bytes);
        }
        ShmSegment segment = ShmSegment.create(config.name(), number, bytes, self);
        synchronized (segmentLock) {
            ShmSegment[] grown = java.util.Arrays.copyOf(segments, segments.length + 1);
            grown[segments.length] = segment;
            segments = grown;
        }
        return segment.memory;
    }

    /** A segment's memory is freed (its endpoint closed): its file and memfd go, peers keep their mapping until they drop it. */
    private void segmentFreed(long freedAddress, long length) {
        synchronized (segmentLock) {
            for (ShmSegment segment : segments) {
                if (segment.address == freedAddress) {
                    segment.remove();
                    segments = java.util.Arrays.stream(segments).filter(s -> s != segment).toArray(ShmSegment[]::new);
                    return;
                }
            }
        }
    }

    // ---- send ----------------------------------------------------------------------------------

    @Override
    public boolean transmit(Route route, FrameHeader header, PayloadSource payload) {
        ShmPeer peer = (ShmPeer) route;
        if (closed || peer.dead) {
            sendsLost++;
            long token = closed ? PayloadSource.NOT_RETAINABLE : payload.retain();
            if (token != PayloadSource.NOT_RETAINABLE) {
                receiver.fail(token, "PEER_UNREACHABLE: " + peer.lostWhy); // the wire knows: the send fails, not completes
            }
            return true;
        }
        FrameRing out = peer.region.out;
        int length = header.fragmentLength;
        try {
            boolean large = length > config.eagerBytes() && peer.rendezvousWith(rendezvous);
            ShmSegment[] shared = segments;
            if (length > 0 && (large || shared.length > 0)) {
                // a NIC with shared segments looks where even a small fragment lies: one TLB hit for a pinned one
                int pieces = payload.gather(gatherAddresses, gatherLengths, large ? ShmFrame.MAX_PIECES : 1);
                ShmSegment segment = pieces == 1 ? ShmSegment.holding(shared, gatherAddresses[0], gatherLengths[0]) : null;
                if (segment != null) {
                    int sent = fromSegment(peer, out, header, payload, segment, gatherAddresses[0] - segment.address);
                    if (sent != SEGMENT_NOT_RETAINED) {
                        return sent == 1;
                    }
                }
                if (large && pieces > 0) {
                    if (!peer.canHold()) {
                        sendBackPressured++;
                        return false;
                    }
                    int recordLength = ShmFrame.rendezvousLength(pieces);
                    int at = out.claim(recordLength);
                    if (at < 0) {
                        sendBackPressured++;
                        return false;
                    }
                    long token = payload.retain();
                    if (token != PayloadSource.NOT_RETAINABLE) {
                        ByteBuffer m = out.memory();
                        ShmFrame.encode(m, at, FrameRing.KIND_RENDEZVOUS, header);
                        m.putLong(at + ShmFrame.SEQ_OFFSET, peer.hold(token, false));
                        m.putInt(at + ShmFrame.PID_OFFSET, pid);
                        m.putInt(at + ShmFrame.PIECES_OFFSET, pieces);
                        for (int i = 0, p = at + ShmFrame.PIECE_LIST_OFFSET; i < pieces; i++, p += ShmFrame.PIECE_LENGTH) {
                            m.putLong(p, gatherAddresses[i]);
                            m.putLong(p + 8, gatherLengths[i]);
                        }
                        out.append(recordLength);
                        rendezvousSent++;
                        return true;
                    }
                    // the NIC's own reused memory: copy it inline instead (the claim above stays unpublished)
                }
            }
            int recordLength = ShmFrame.HEADER_LENGTH + length;
            if (recordLength > out.maxRecord()) {
                sendsLost++; // cannot happen under the mtu; a wire that cannot carry a frame loses it, counted
                return true;
            }
            int at = out.claim(recordLength);
            if (at < 0) {
                sendBackPressured++;
                return false;
            }
            ShmFrame.encode(out.memory(), at, FrameRing.KIND_INLINE, header);
            if (length > 0) {
                payload.copyTo(0, out.memory(), at + ShmFrame.HEADER_LENGTH, length);
            }
            out.append(recordLength);
            inlineSent++;
            return true;
        } catch (RuntimeException e) {
            return true; // the NIC kept the failure (a page it could not translate) and fails the send with it
        }
    }

    private static final int SEGMENT_NOT_RETAINED = -1;

    /**
     * Posts a segment frame for a fragment at {@code offset} in {@code segment}: 1 posted (the
     * fragment is retained until the peer completes it), 0 back-pressured, or
     * {@link #SEGMENT_NOT_RETAINED} when the payload cannot be kept (send it inline instead).
     */
    private int fromSegment(ShmPeer peer, FrameRing out, FrameHeader header, PayloadSource payload, ShmSegment segment,
                            long offset) {
        if (!peer.canHold()) {
            sendBackPressured++;
            return 0;
        }
        int at = out.claim(ShmFrame.SEGMENT_RECORD_LENGTH);
        if (at < 0) {
            sendBackPressured++;
            return 0;
        }
        long token = payload.retain();
        if (token == PayloadSource.NOT_RETAINABLE) {
            return SEGMENT_NOT_RETAINED; // the claim stays unpublished
        }
        ByteBuffer m = out.memory();
        ShmFrame.encode(m, at, FrameRing.KIND_SEGMENT, header);
        m.putLong(at + ShmFrame.SEQ_OFFSET, peer.hold(token, true));
        m.putInt(at + ShmFrame.SEGMENT_NUMBER_OFFSET, segment.number);
        m.putInt(at + ShmFrame.SEGMENT_NUMBER_OFFSET + 4, 0);
        m.putLong(at + ShmFrame.SEGMENT_PAYLOAD_OFFSET, offset);
        out.append(ShmFrame.SEGMENT_RECORD_LENGTH);
        segmentSent++;
        return 1;
    }

    // ---- receive -------------------------------------------------------------------------------

    @Override
    public int poll() {
        if (closed) {
            return 0;
        }
        boolean beat = false;
        long now = 0;
        if (++pollsSinceClock >= CLOCK_POLLS || recordsSinceClock >= CLOCK_RECORDS) {
            pollsSinceClock = 0;
            recordsSinceClock = 0;
            now = System.nanoTime();
            beat = now - lastBeatAt >= BEAT_NANOS;
            if (beat) {
                lastBeatAt = now;
                beats++;
            }
        }
        long generation = ShmDirectory.generation(home.memory());
        if (generation != seenGeneration) {
            seenGeneration = generation;
            discover();
        }
        int work = 0;
        ShmPeer[] list = peers;
        for (ShmPeer peer : list) {
            if (beat) {
                peer.region.beat(beats);
                checkLiveness(peer, now);
            }
            if (!peer.dead) {
                work += receiver.drainCompletions(peer);
                work += receiver.readRecords(peer, config.pollMessages());
            }
            if (!peer.dead) {
                peer.region.out.storeTail(); // once a round: what the peer's ring reader skips to when it cannot take a record
            }
        }
        recordsSinceClock += work;
        return work;
    }

    /** Attaches the regions that peers created for this NIC since the last look. */
    private void discover() {
        for (String name : ShmDirectory.peersOf(config.name())) {
            ShmPeer known = byName.get(name);
            if (known != null && !known.dead) {
                continue;
            }
            try {
                attach(name);
            } catch (RuntimeException e) {
                LOG.warn("{}: could not attach the region of shm:{}: {}", address, name, e.getMessage());
            }
        }
    }


    // ---- liveness ------------------------------------------------------------------------------

    private void checkLiveness(ShmPeer peer, long now) {
        if (peer.dead) {
            return;
        }
        long beat = peer.region.peerHeartbeat();
        if ((peer.region.peerFlags() & ShmRegion.FLAG_CLOSED) != 0) {
            lose(peer, "shm:" + peer.name + " closed");
        } else if (beat != peer.lastBeat) {
            peer.lastBeat = beat;
            peer.lastBeatChange = now;
            peer.pid(); // read while the peer is alive: a region the peer freed on losing us reads 0 later
        } else if (now - peer.lastBeatChange > config.peerTimeoutMillis() * 1_000_000L) {
            lose(peer, "shm:" + peer.name + " (pid " + peer.pid() + ") was silent for more than " + config.peerTimeoutMillis()
                    + " ms (a process paused that long, by a debugger, SIGSTOP or a long GC, counts as gone: raise timeout= in"
                    + " the shm: URI of both ends to wait longer)");
        }
    }

    /** The peer is gone: fail what it holds, remove its region, forget it. */
    private void lose(ShmPeer peer, String why) {
        peer.dead = true;
        peer.lostWhy = why;
        peersLost++;
        receiver.failHeld(peer, "PEER_UNREACHABLE: " + why);
        peer.region.closeAndFree(); // it is gone: nothing reads its rings again, and its pages are freed now
        peer.forgetSegments();
        byName.remove(peer.name, peer);
        ShmPeer[] kept = new ShmPeer[peers.length - 1];
        int k = 0;
        for (ShmPeer p : peers) {
            if (p != peer) {
                kept[k++] = p;
            }
        }
        peers = kept;
        LOG.info("{}: lost peer {}", address, why);
        receiver.peerLost(peer, why); // last: its reliable channels fail, and may close, with the peer forgotten
    }

    // ---- flush and close -----------------------------------------------------------------------

    /**
     * Waits (bounded by the peer timeout, at most a second) for the peers to read what this NIC
     * posted by rendezvous, then fails the rest: after it nothing of an endpoint that closes is read.
     * A late completion of a failed one is counted as {@link ShmDropReason#UNKNOWN_COMPLETION}.
     */
    @Override
    public void flush() {
        long deadline = System.nanoTime() + Math.min(config.peerTimeoutMillis(), 1000) * 1_000_000L;
        while (true) {
            int left = 0;
            for (ShmPeer peer : peers) {
                receiver.drainCompletions(peer);
                left += peer.outstanding();
            }
            if (left == 0 || System.nanoTime() - deadline > 0) {
                break;
            }
            Thread.onSpinWait();
        }
        for (ShmPeer peer : peers) {
            receiver.failHeld(peer, "the peer shm:" + peer.name + " did not read the fragment before the endpoint closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ShmPeer peer : peers) {
            if (receiver.started()) {
                receiver.failHeld(peer, "the NIC closed before the peer shm:" + peer.name + " read the fragment");
            }
            peer.region.close();
        }
        peers = new ShmPeer[0];
        byName.clear();
        ShmDirectory.delete(ShmDirectory.home(config.name()));
        home.close();
        NativeMemory.removeFreeListener(segmentFreed);
        synchronized (segmentLock) {
            for (ShmSegment segment : segments) {
                segment.remove(); // the engine frees its pages; peers see no new frames from a closed NIC
            }
            segments = new ShmSegment[0];
        }
        receiver.close();
        OPEN.remove(address, this);
    }

    /**
     * Whether {@link #close()} has run; a closed transport sends nothing and its region is gone.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return closed;
    }

    /**
     * A snapshot of the counters, safe to call from any thread; counters are read one by one, so they may
     * be a few events apart from each other.
     *
     * @return a fresh snapshot, never null
     */
    public ShmStats stats() {
        Receiver r = receiver;
        return new ShmStats(address, mtu, config.eagerBytes(), rendezvous, peers.length, inlineSent, rendezvousSent,
                r.rendezvousCompleted, r.rendezvousFailed, sendBackPressured, sendsLost, r.inlineReceived, r.rendezvousRead,
                r.bytesRead, peersLost, ShmStats.dropMap(r.drops()), segmentSent, r.segmentReceived,
                r.segmentCompleted, r.segmentFailed);
    }

    @Override
    public String toString() {
        return "ShmTransport[" + address + " peers=" + peers.length + " rendezvous=" + rendezvous + "]";
    }
}
