package org.unetmm;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.unetmm.internal.Counters;
import org.unetmm.internal.EngineClock;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PageTranslator;
import org.unetmm.pinning.PinInUseException;
import org.unetmm.pinning.PinBudget;
import org.unetmm.pinning.PinBudgetExceededException;
import org.unetmm.pinning.PinCache;
import org.unetmm.pinning.PinCacheConfig;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.Inbound;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.Placement;
import org.unetmm.spi.Transport;
import org.unetmm.spi.TransportFactory;
import org.unetmm.tlb.internal.PinningMissHandler;
import org.unetmm.tlb.Tlb;
import org.unetmm.tlb.TlbConfig;

/**
 * The software NIC of U-Net/MM: one {@link Tlb} of user pages over a {@link PinCache} (its miss
 * path pins on demand), the endpoints, and one wire ({@link Transport}, chosen by URI).
 *
 * <p>The send path, in order: {@link Endpoint#send} puts a descriptor on the send queue; the
 * engine ({@link #progress()}) takes it, cuts the message into MTU-sized fragments and hands each
 * to {@link Transport#transmit}; the wire pulls the payload from the sender's memory, and every
 * page it reads is first translated through {@link Tlb#lookup} (a miss traps to the pin cache,
 * which pins the page). On the receiving NIC every page written is translated the same way, and
 * the bytes land straight in the posted buffer, at their offset in the message. Unreliable
 * channels complete a send when its last fragment has been handed to the wire. Reliable channels
 * ({@link ChannelOptions#reliable()}) move a send from the queue into a window and complete it on
 * the peer's acknowledgement; their protocol and timers live in {@code ReliableChannel}, which
 * {@link #progress()} drives.
 *
 * <p>Progress: a NIC thread of its own (spin, then yield, then park) or the caller's
 * ({@link ProgressMode#CALLER}). The engine runs under one lock, so endpoint close, channel setup
 * and receive prefetch never race the data path.
 */
public final class Nic implements AutoCloseable {
    private static final AtomicInteger NIC_IDS = new AtomicInteger();
    /** Open NICs of this JVM, so a free can tell whether its thread holds some engine's lock. */
    private static final java.util.Set<Nic> OPEN = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final int SEND_BATCH = 64;
    private static final long PAGE = NativeMemory.pageSize();

    private final NicConfig config;
    private final PinCache pinCache;
    private final PageTranslator translator;
    private final Tlb tlb;
    private final Transport transport;
    private final int mtu;
    /**
     * Bytes the NIC translates, page by page, before one copy (a power of two, page-aligned runs).
     * With an unbounded pin budget nothing released by the TLB is unpinned behind the NIC's back, so
     * 16 pages are translated then moved at once; under a bounded budget a translation displaced
     * within a run could let its page be unpinned before the copy, so each page is translated right
     * before its own copy.
     */
    private final long copyRun;
    private final long reassemblyTimeoutNanos;
    /** Channels reassembling a multi-fragment unreliable message now; the expiry sweep runs only when positive. */
    private int reassembling;
    private long nextReassemblySweep;
    private final ReentrantLock engine = new ReentrantLock();
    private final FrameHeader header = new FrameHeader();
    private final SendSource sendSource = new SendSource();
    private final long[] drops = new long[DropReason.values().length];
    private final ArrayDeque<Integer> freeTags = new ArrayDeque<>();
    private final NativeMemory.FreeListener freeGuard = this::refuseFreeInFlight;
    private final Thread thread;
    private volatile Endpoint[] endpoints = new Endpoint[0];
    // ---- reliable channels (issue 6): their protocol lives in ReliableChannel ----
    private ReliableChannel[] reliableChannels = new ReliableChannel[0];
    private ReliableChannel.Workspace reliableWorkspace;
    private String transmitFailure;
    private Channel[] tags = new Channel[64];
    private int nextTag = 1;
    private volatile boolean running;
    private volatile boolean parked;
    private volatile boolean closed;

    private static final int MESSAGES_SENT = 0;
    private static final int BYTES_SENT = 1;
    private static final int FRAGMENTS_SENT = 2;
    private static final int MESSAGES_RECEIVED = 3;
    private static final int BYTES_RECEIVED = 4;
    private static final int BACK_PRESSURED = 5;
    /** Written by the engine (under its lock), read by {@link #stats()} from anywhere. */
    private final Counters counters = new Counters(6);
    private final Upcalls upcalls = new Upcalls();
    private final ErrorHandler errorHandler;

    private Nic(NicConfig config) {
        this.config = config;
        this.errorHandler = config.errorHandler();
        PinBudget budget = config.pinBudget() == null ? PinBudget.fromProcess() : config.pinBudget();
        this.pinCache = new PinCache(PinCacheConfig.builder().budget(budget).build());
        this.translator = PageTranslator.open();
        this.tlb = new Tlb(new TlbConfig(config.tlbSets(), config.tlbWays(), config.tlbPolicy(), config.seed()),
                new PinningMissHandler(pinCache, translator));
        // another NIC of the process is short of locked memory (DESIGN §3): give up this TLB's translations, but
        // only when no thread is inside this engine (the asker itself may be, delivering into it: its translations
        // are in use), and never wait for it (the asker may hold other engines' locks)
        pinCache.addReclaimer(bytes -> {
            if (!engine.isHeldByCurrentThread() && engine.tryLock()) {
                try {
                    for (Endpoint endpoint : endpoints) {
                        tlb.invalidateContext(endpoint.context);
                    }
                } finally {
                    engine.unlock();
                }
            }
        });
        try {
            this.transport = openTransport(config.transport());
        } catch (RuntimeException e) {
            tlb.close();
            pinCache.close();
            translator.close();
            throw e;
        }
        this.mtu = config.mtu() > 0 ? config.mtu() : transport.mtu();
        this.copyRun = budget.isUnlimited() ? 16 * PAGE : PAGE;
        this.reassemblyTimeoutNanos = config.reassemblyTimeout().toNanos();
        transport.start(new Receiver());
        NativeMemory.addFreeListener(freeGuard);
        OPEN.add(this);
        if (config.progressMode() == ProgressMode.NIC_THREAD) {
            running = true;
            thread = new Thread(this::runEngine, "unetmm-nic-" + NIC_IDS.incrementAndGet());
            thread.setDaemon(true);
            thread.start();
        } else {
            thread = null;
        }
    }

    /** A NIC on the in-JVM loopback wire with default settings. */
    public static Nic open() {
        return open(NicConfig.defaults());
    }

    public static Nic open(NicConfig config) {
        return new Nic(config);
    }

    private static Transport openTransport(String uri) {
        String scheme = uri.substring(0, uri.indexOf(':'));
        StringBuilder known = new StringBuilder();
        for (TransportFactory factory : ServiceLoader.load(TransportFactory.class)) {
            if (factory.scheme().equals(scheme)) {
                return factory.open(uri);
            }
            known.append(known.length() == 0 ? "" : ", ").append(factory.scheme()).append(':');
        }
        throw new IllegalArgumentException("no transport for '" + uri + "': known schemes are ["
                + known + "]; put unetmm-nic-backend on the class path for loopback: and udp://");
    }

    public NicConfig config() {
        return config;
    }

    public Tlb tlb() {
        return tlb;
    }

    public PinCache pinCache() {
        return pinCache;
    }

    public PageTranslator translator() {
        return translator;
    }

    /** The largest fragment payload this NIC sends. */
    public int mtu() {
        return mtu;
    }

    /** This NIC's address on its wire; channel addresses are {@code <this>/<tag>}. */
    public String transportAddress() {
        return transport.address();
    }

    public Endpoint createEndpoint() {
        return createEndpoint(EndpointConfig.defaults());
    }

    public Endpoint createEndpoint(EndpointConfig endpointConfig) {
        engine.lock();
        try {
            checkOpen();
            int context = tlb.openContext();
            Endpoint endpoint;
            try {
                endpoint = new Endpoint(this, endpointConfig, context);
            } catch (PinBudgetExceededException e) {
                // the segment must be pinned now; the TLB's translations hold pins that can be given up
                for (Endpoint other : endpoints) {
                    tlb.invalidateContext(other.context);
                }
                try {
                    endpoint = new Endpoint(this, endpointConfig, context);
                } catch (RuntimeException again) {
                    tlb.closeContext(context);
                    throw again;
                }
            } catch (RuntimeException e) {
                tlb.closeContext(context);
                throw e;
            }
            Endpoint[] grown = Arrays.copyOf(endpoints, endpoints.length + 1);
            grown[grown.length - 1] = endpoint;
            endpoints = grown;
            return endpoint;
        } finally {
            unlockEngine();
        }
    }

    /**
     * Does the NIC's pending work once: transmits queued sends, takes arrivals from the wire.
     * Returns how much was done (0 = idle). In CALLER mode the application calls this.
     */
    public int progress() {
        engine.lock();
        try {
            if (closed) {
                return 0;
            }
            int work = 0;
            for (Endpoint endpoint : endpoints) {
                work += processSends(endpoint);
            }
            ReliableChannel[] reliable = reliableChannels; // issue 6: windows, timers, acknowledgements
            if (reliable.length > 0) {
                long now = EngineClock.tick();
                for (ReliableChannel r : reliable) {
                    work += r.progress(now);
                }
            }
            // sends first: a reply queued since the last progress leaves without waiting for the wire's poll
            work += transport.poll();
            if (reassembling > 0) {
                work += expireReassemblies();
            }
            return work;
        } finally {
            unlockEngine();
        }
    }

    // ---- send side -------------------------------------------------------------------------

    private int processSends(Endpoint ep) {
        int done = 0;
        Endpoint.SendDescriptor d;
        while (done < SEND_BATCH && (d = ep.sendQueue.peek()) != null) {
            if (ep.handler == null && !ep.completionQueue.hasRoom()) {
                break; // the application must drain completions first: never lose one
            }
            Channel channel = d.channel;
            if (channel.closed) {
                completeSend(ep, d, channel.closeStatus == null ? CompletionStatus.CLOSED : channel.closeStatus,
                        "channel was closed before the send was transmitted"
                                + (channel.closeDetail == null ? "" : ": " + channel.closeDetail));
                done++;
                continue;
            }
            if (channel.reliable != null) { // issue 6: the window holds it until the peer's ack
                if (!channel.reliable.offer(d)) {
                    break;
                }
                done++;
                continue;
            }
            if (d.messageId < 0) {
                d.messageId = channel.nextMessageId++;
                if (d.path == SendPath.PINNED && config.reuseCheck() && Endpoint.checksum(d) != d.checksum) {
                    completeSend(ep, d, CompletionStatus.BUFFER_MODIFIED,
                            "send buffer was modified after send() and before the NIC read it: wait for the completion");
                    done++;
                    continue;
                }
            }
            if (!transmit(ep, d)) {
                break;
            }
            done++;
        }
        return done;
    }

    /** Hands the descriptor's remaining fragments to the wire; false when the wire pushed back. */
    private boolean transmit(Endpoint ep, Endpoint.SendDescriptor d) {
        Channel channel = d.channel;
        do {
            int fragment = Math.min(mtu, d.length - d.sent);
            FrameHeader h = header;
            h.type = FrameHeader.TYPE_DATA;
            channel.address(h);
            h.messageId = d.messageId;
            h.fragmentOffset = d.sent;
            h.messageLength = d.length;
            h.fragmentLength = fragment;
            h.flags = 0;
            sendSource.start(ep, d, d.sent, fragment);
            boolean taken = transport.transmit(channel.route, h, sendSource);
            RuntimeException failure = sendSource.finish();
            if (failure != null) {
                completeSend(ep, d, CompletionStatus.PIN_FAILED, failure.getMessage());
                return true;
            }
            if (!taken) {
                counters.increment(BACK_PRESSURED);
                return false;
            }
            d.sent += fragment;
            counters.increment(FRAGMENTS_SENT);
        } while (d.sent < d.length);
        counters.increment(MESSAGES_SENT);
        counters.add(BYTES_SENT, d.length);
        completeSend(ep, d, CompletionStatus.OK, null);
        return true;
    }

    void completeSend(Endpoint ep, Endpoint.SendDescriptor d, CompletionStatus status, String detail) {
        finishSend(ep, d, status, detail);
        ep.sendQueue.release();
    }

    /** A send's completion, its counters and its segment space; the caller frees its descriptor slot. */
    void finishSend(Endpoint ep, Endpoint.SendDescriptor d, CompletionStatus status, String detail) {
        if (d.path == SendPath.FIXED_SEGMENT) {
            ep.segmentReleases.release(d.segmentTicket, d.segmentConsumed);
        }
        ByteBuffer first = d.path == SendPath.PINNED ? d.buffers[0] : null;
        int offset = d.path == SendPath.PINNED ? d.offsets[0] : 0;
        complete(ep, Completion.Kind.SEND, status, d.cookie, d.channel, first, offset, d.length, detail);
        if (status == CompletionStatus.OK) {
            ep.counters.increment(Endpoint.SENDS_COMPLETED);
            ep.counters.add(Endpoint.BYTES_SENT, d.length);
        } else {
            ep.counters.increment(Endpoint.SENDS_FAILED);
        }
        d.clear();
    }

    /**
     * The payload of the fragment being transmitted, read from the sender's memory: from the fixed
     * segment (base U-Net), or from the user's buffers with every page translated through the TLB
     * as it is read (U-Net/MM). A translation failure is kept and reported on the send.
     */
    private final class SendSource implements PayloadSource {
        private Endpoint endpoint;
        private Endpoint.SendDescriptor descriptor;
        private int base;
        private int length;
        /** The page last translated for this fragment: a NIC translates each page once per transfer. */
        private long lastPage;
        private RuntimeException failure;

        void start(Endpoint endpoint, Endpoint.SendDescriptor descriptor, int base, int length) {
            this.endpoint = endpoint;
            this.descriptor = descriptor;
            this.base = base;
            this.length = length;
            this.lastPage = -1;
            this.failure = null;
        }

        @Override
        public int gather(long[] addresses, int[] lengths, int max) {
            Endpoint.SendDescriptor d = descriptor;
            if (length == 0) {
                return 0;
            }
            if (d.path == SendPath.FIXED_SEGMENT) {
                if (max < 1) {
                    return -1;
                }
                addresses[0] = endpoint.segment.address() + d.segmentOffset + base;
                lengths[0] = length;
                return 1;
            }
            try {
                int pieces = 0;
                int position = base;
                int end = base + length;
                int entryStart = 0;
                for (int entry = 0; entry < d.count && position < end; entry++) {
                    int entryEnd = entryStart + d.lengths[entry];
                    if (position < entryEnd) {
                        int from = position - entryStart;
                        int to = Math.min(end, entryEnd) - entryStart;
                        if (to > from) {
                            if (pieces == max) {
                                return -1;
                            }
                            long address = d.addresses[entry] + d.offsets[entry] + from;
                            for (long page = address & -PAGE; page < address + (to - from); page += PAGE) {
                                tlb.lookup(endpoint.context, d.buffers[entry], Math.max(page, address));
                            }
                            addresses[pieces] = address;
                            lengths[pieces] = to - from;
                            pieces++;
                            position = entryStart + to;
                        }
                    }
                    entryStart = entryEnd;
                }
                return pieces;
            } catch (RuntimeException e) {
                failure = e;
                throw e;
            }
        }

        RuntimeException finish() {
            RuntimeException f = failure;
            endpoint = null;
            descriptor = null;
            failure = null;
            return f;
        }

        @Override
        public void copyTo(int offset, ByteBuffer destination, int destinationIndex, int length) {
            Endpoint.SendDescriptor d = descriptor;
            int position = base + offset;
            if (d.path == SendPath.FIXED_SEGMENT) {
                NativeMemory.copy(endpoint.segment.buffer(), d.segmentOffset + position, destination, destinationIndex, length);
                return;
            }
            try {
                int entry = 0;
                int entryStart = 0;
                while (position >= entryStart + d.lengths[entry]) {
                    entryStart += d.lengths[entry];
                    entry++;
                }
                int remaining = length;
                while (remaining > 0) {
                    int inEntry = position - entryStart;
                    int index = d.offsets[entry] + inEntry;
                    long address = d.addresses[entry] + index;
                    int chunk = (int) Math.min(Math.min(remaining, d.lengths[entry] - inEntry), copyRun - (address & (copyRun - 1)));
                    for (long page = address / PAGE; page <= (address + chunk - 1) / PAGE; page++) {
                        if (page != lastPage) {
                            tlb.lookup(endpoint.context, d.buffers[entry], Math.max(page * PAGE, address));
                            lastPage = page;
                        }
                    }
                    NativeMemory.copy(d.buffers[entry], index, destination, destinationIndex, chunk);
                    destinationIndex += chunk;
                    position += chunk;
                    remaining -= chunk;
                    if (position == entryStart + d.lengths[entry] && remaining > 0) {
                        entryStart += d.lengths[entry];
                        entry++;
                    }
                }
            } catch (RuntimeException e) {
                failure = e;
                throw e;
            }
        }
    }

    // ---- receive side ----------------------------------------------------------------------

    /** The NIC's inbound side: the wire calls it with each arriving fragment. */
    private final class Receiver implements Inbound {
        private Channel claimed;
        private ReliableChannel claimedReliable;

        @Override
        public boolean onFragment(FrameHeader h, PayloadSource payload) {
            if (!engine.tryLock()) {
                return false;
            }
            try {
                if (!closed) {
                    deliver(h, payload);
                }
                return true;
            } finally {
                releaseFromWire();
            }
        }

        /** The engine lock stays held from a successful claim to its commit or abort. */
        @Override
        public boolean claim(FrameHeader h, Placement placement) {
            placement.clear();
            if (!engine.tryLock()) {
                return false;
            }
            boolean keep = false;
            try {
                if (closed || claimed != null) {
                    return false;
                }
                if ((h.flags & FrameHeader.FLAG_RELIABLE) != 0) { // issue 6
                    ReliableChannel r = reliableTarget(h);
                    if (r == null || !r.claim(h, placement, EngineClock.now())) {
                        return false;
                    }
                    claimedReliable = r;
                    claimed = tags[h.destinationTag];
                    keep = true;
                    return true;
                }
                Channel channel = accept(h);
                if (channel == null) {
                    return false;
                }
                int length = writable(channel, h);
                int index = channel.rxOffset + h.fragmentOffset;
                try {
                    for (int done = 0; done < length; ) {
                        long address = channel.rxAddress + index + done;
                        tlb.lookup(channel.endpoint.context, channel.rxBuffer, address);
                        done += (int) Math.min(length - done, PAGE - (address & (PAGE - 1)));
                    }
                } catch (RuntimeException e) {
                    completeReceive(channel.endpoint, channel, CompletionStatus.PIN_FAILED, e.getMessage());
                    return false;
                }
                placement.buffer = channel.rxBuffer;
                placement.index = index;
                placement.address = channel.rxAddress + index;
                placement.length = length;
                claimed = channel;
                keep = true;
                return true;
            } finally {
                if (!keep) {
                    releaseFromWire();
                }
            }
        }

        @Override
        public void commit(FrameHeader h) {
            Channel channel = claimed;
            if (channel == null) {
                throw new IllegalStateException("commit without a successful claim");
            }
            claimed = null;
            ReliableChannel r = claimedReliable;
            claimedReliable = null;
            try {
                if (r != null) {
                    r.commit(h, EngineClock.now());
                } else {
                    finishFragment(channel, h);
                }
            } finally {
                releaseFromWire();
            }
        }

        @Override
        public void abort(FrameHeader h, String reason) {
            if (claimed == null) {
                throw new IllegalStateException("abort without a successful claim");
            }
            claimed = null;
            claimedReliable = null;
            drop(DropReason.MALFORMED);
            releaseFromWire();
        }
    }

    private void deliver(FrameHeader h, PayloadSource payload) {
        if ((h.flags & FrameHeader.FLAG_RELIABLE) != 0) { // issue 6
            ReliableChannel r = reliableTarget(h);
            if (r != null) {
                r.deliver(h, payload, EngineClock.now());
            }
            return;
        }
        Channel channel = accept(h);
        if (channel == null) {
            return;
        }
        try {
            copyIn(channel, payload, h.fragmentOffset, writable(channel, h));
        } catch (RuntimeException e) {
            completeReceive(channel.endpoint, channel, CompletionStatus.PIN_FAILED, e.getMessage());
            return;
        }
        finishFragment(channel, h);
    }

    /**
     * Validates an arriving fragment and finds where it goes: its channel, and for the first
     * fragment of a message a posted buffer taken from the free queue. Returns null when it is
     * dropped (counted). Nothing is written here.
     */
    private Channel accept(FrameHeader h) {
        if (h.type != FrameHeader.TYPE_DATA || !h.isWellFormed()) {
            drop(DropReason.MALFORMED);
            return null;
        }
        Channel channel = h.destinationTag > 0 && h.destinationTag < tags.length ? tags[h.destinationTag] : null;
        if (channel == null || channel.closed) {
            drop(DropReason.UNKNOWN_TAG);
            return null;
        }
        DropReason refused = channel.admit(h); // the connected peer, from its address, as it connected; or, listening, anyone
        if (refused != null) {
            drop(refused);
            return null;
        }
        if (channel.reliable != null) {
            drop(DropReason.NOT_RELIABLE); // an unreliable peer's frame on a reliable channel
            return null;
        }
        Endpoint ep = channel.endpoint;
        if (h.fragmentOffset == 0) {
            if (channel.rxActive) {
                drop(DropReason.ORPHAN_FRAGMENT); // the message in progress lost fragments: reuse its buffer
            } else {
                if (ep.handler == null && !ep.completionQueue.hasRoom()) {
                    drop(DropReason.COMPLETION_QUEUE_FULL);
                    return null;
                }
                Endpoint.ReceiveDescriptor r = ep.freeQueue.peek();
                if (r == null) {
                    drop(DropReason.NO_BUFFER);
                    return null;
                }
                channel.takePostedBuffer(r);
            }
            channel.rxMessageId = h.messageId;
            channel.rxReceived = 0;
            channel.rxLength = h.messageLength;
            channel.rxTruncated = h.messageLength > channel.rxCapacity;
            if (h.fragmentLength < h.messageLength) { // more fragments to come: start the reassembly clock
                if (!channel.rxTimed) {
                    channel.rxTimed = true;
                    reassembling++;
                }
                channel.rxDeadline = System.nanoTime() + reassemblyTimeoutNanos;
            }
        } else if (!channel.rxActive || channel.rxMessageId != h.messageId
                || channel.rxLength != h.messageLength || h.fragmentOffset != channel.rxReceived) {
            drop(DropReason.ORPHAN_FRAGMENT);
            return null;
        } else if (channel.rxTimed) {
            // the timeout bounds the wait for the next fragment, not the whole message: a 32 MiB message that
            // keeps arriving (re-pinning every page under a small RLIMIT_MEMLOCK) is slow, not lost
            channel.rxDeadline = System.nanoTime() + reassemblyTimeoutNanos;
        }
        return channel;
    }

    /** Bytes of the fragment that fit in the posted buffer; the rest of a too-long message is discarded. */
    private static int writable(Channel channel, FrameHeader h) {
        return Math.max(0, Math.min(h.fragmentLength, channel.rxCapacity - h.fragmentOffset));
    }

    /** The fragment's payload is in place: account it, and complete the receive on the message's last byte. */
    void finishFragment(Channel channel, FrameHeader h) {
        channel.rxReceived += h.fragmentLength;
        if (channel.rxReceived == channel.rxLength) {
            counters.increment(MESSAGES_RECEIVED);
            counters.add(BYTES_RECEIVED, channel.rxLength);
            completeReceive(channel.endpoint, channel, channel.rxTruncated ? CompletionStatus.TRUNCATED : CompletionStatus.OK,
                    channel.rxTruncated ? "message of " + channel.rxLength + " bytes was longer than the posted buffer of "
                            + channel.rxCapacity + " bytes; post larger buffers" : null);
        }
    }

    /** Pulls {@code length} payload bytes into the posted buffer at message offset {@code at}, page by translated page. */
    void copyIn(Channel channel, PayloadSource payload, int at, int length) {
        int done = 0;
        while (done < length) {
            int index = channel.rxOffset + at + done;
            long address = channel.rxAddress + index;
            int chunk = (int) Math.min(length - done, copyRun - (address & (copyRun - 1)));
            for (long page = address & -PAGE; page < address + chunk; page += PAGE) {
                tlb.lookup(channel.endpoint.context, channel.rxBuffer, Math.max(page, address));
            }
            payload.copyTo(done, channel.rxBuffer, index, chunk);
            done += chunk;
        }
    }

    /**
     * Drops the unreliable messages whose fragments stopped arriving: each is counted INCOMPLETE and
     * its posted buffer completes INCOMPLETE, so the application gets it back. Runs only while some
     * multi-fragment message is being reassembled, at most once a millisecond.
     */
    private int expireReassemblies() {
        long now = System.nanoTime();
        if (now - nextReassemblySweep < 0) {
            return 0;
        }
        nextReassemblySweep = now + 1_000_000L;
        int expired = 0;
        for (Endpoint ep : endpoints) {
            for (Channel channel : ep.channels) {
                if (channel.rxActive && channel.rxTimed && now - channel.rxDeadline > 0) {
                    drop(DropReason.INCOMPLETE);
                    completeReceive(ep, channel, CompletionStatus.INCOMPLETE, "message " + channel.rxMessageId + " timed out"
                            + " after " + config.reassemblyTimeout().toMillis() + " ms with " + channel.rxReceived + " of "
                            + channel.rxLength + " bytes: fragments were lost; post the buffer again");
                    expired++;
                }
            }
        }
        return expired;
    }

    void completeReceive(Endpoint ep, Channel channel, CompletionStatus status, String detail) {
        if (channel.rxTimed) {
            channel.rxTimed = false;
            reassembling--;
        }
        int length = Math.min(channel.rxReceived, channel.rxCapacity);
        if (status == CompletionStatus.OK || status == CompletionStatus.TRUNCATED) {
            length = Math.min(channel.rxLength, channel.rxCapacity);
        }
        ByteBuffer buffer = channel.rxBuffer;
        channel.rxActive = false;
        channel.rxBuffer = null;
        complete(ep, Completion.Kind.RECEIVE, status, channel.rxCookie, channel, buffer, channel.rxOffset, length, detail);
        if (status == CompletionStatus.OK) {
            ep.counters.increment(Endpoint.RECEIVES_COMPLETED);
            ep.counters.add(Endpoint.BYTES_RECEIVED, length);
        } else {
            ep.counters.increment(Endpoint.RECEIVES_FAILED);
        }
    }

    void drop(DropReason reason) {
        drops[reason.ordinal()]++;
    }

    /** Reports one completion: upcall when a handler is set, else onto the completion queue (room was checked). */
    private void complete(Endpoint ep, Completion.Kind kind, CompletionStatus status, long cookie, Channel channel,
                          ByteBuffer buffer, int offset, int length, String detail) {
        CompletionHandler handler = ep.handler;
        if (handler != null) {
            upcalls.add(handler, kind, status, cookie, channel, buffer, offset, length, detail); // run at the next safe point
            return;
        }
        Completion c = ep.completionQueue.claim();
        if (c == null) {
            Completion overflow = new Completion();
            overflow.set(kind, status, cookie, channel, buffer, offset, length, detail);
            synchronized (ep.closeCompletions) {
                ep.closeCompletions.add(overflow);
            }
            return;
        }
        c.set(kind, status, cookie, channel, buffer, offset, length, detail);
        ep.completionQueue.publish();
    }

    // ---- "kernel" calls: channels, prefetch, close ------------------------------------------

    Channel openChannel(Endpoint ep) {
        return openChannel(ep, ChannelOptions.unreliable());
    }

    Channel openChannel(Endpoint ep, ChannelOptions options) {
        engine.lock();
        try {
            checkOpen();
            if (ep.closed) {
                throw new ClosedException("endpoint is closed: open a new endpoint");
            }
            int tag;
            if (!freeTags.isEmpty()) {
                tag = freeTags.poll();
            } else {
                tag = nextTag++;
                if (tag >= tags.length) {
                    tags = Arrays.copyOf(tags, tags.length * 2);
                }
            }
            Channel channel = new Channel(ep, tag, options);
            if (options.isReliable()) { // issue 6
                if (reliableWorkspace == null) {
                    reliableWorkspace = new ReliableChannel.Workspace();
                }
                channel.reliable = new ReliableChannel(this, channel, options, reliableWorkspace);
                reliableChannels = Arrays.copyOf(reliableChannels, reliableChannels.length + 1);
                reliableChannels[reliableChannels.length - 1] = channel.reliable;
            }
            tags[tag] = channel;
            ep.channels.add(channel);
            return channel;
        } finally {
            unlockEngine();
        }
    }

    void connect(Channel channel, ChannelAddress peer) {
        if (peer == null) {
            throw new IllegalArgumentException("peer channel address is required");
        }
        engine.lock();
        try {
            if (channel.closed) {
                throw new ClosedException("channel " + channel.localTag + " is closed: open a new one");
            }
            if (channel.remote != null) {
                throw new IllegalStateException("channel " + channel.localTag + " is already connected to " + channel.remote);
            }
            channel.route = transport.route(peer.transportAddress());
            channel.peerSource = channel.route.sourceKey();
            channel.remoteTag = peer.tag();
            channel.remoteConnection = peer.connection();
            channel.remoteConnectionNamed = peer.connection() != 0;
            channel.remote = peer;
        } finally {
            unlockEngine();
        }
    }

    void closeChannel(Channel channel) {
        engine.lock();
        try {
            if (channel.reliable != null && !channel.closed) {
                channel.reliable.beginClose(); // issue 6: orderly, finished by progress()
                return;
            }
            closeChannelLocked(channel);
            channel.endpoint.channels.remove(channel);
        } finally {
            unlockEngine();
        }
    }

    private void closeChannelLocked(Channel channel) {
        closeChannelLocked(channel, CompletionStatus.CLOSED, null);
    }

    /** Closes {@code channel}; {@code detail} (may be null) says why, for the operations it fails. */
    private void closeChannelLocked(Channel channel, CompletionStatus status, String detail) {
        if (channel.closed) {
            return;
        }
        if (channel.closeStatus == null) {
            channel.closeDetail = detail;
            channel.closeStatus = status;
        }
        channel.closed = true;
        if (tags[channel.localTag] == channel) {
            tags[channel.localTag] = null;
            freeTags.add(channel.localTag);
        }
        if (channel.rxActive) {
            completeReceive(channel.endpoint, channel, status, detail == null
                    ? "channel closed while a message was arriving" : detail);
        }
        if (channel.reliable != null) { // issue 6: its window completes too
            channel.reliable.abandon(status, detail == null ? "channel closed" : detail);
            ReliableChannel gone = channel.reliable;
            reliableChannels = Arrays.stream(reliableChannels).filter(r -> r != gone).toArray(ReliableChannel[]::new);
        }
    }

    void prefetch(Endpoint ep, ByteBuffer buffer, int offset, int length) {
        engine.lock();
        try {
            tlb.prefetch(ep.context, buffer, NativeMemory.address(buffer) + offset, length);
        } finally {
            unlockEngine();
        }
    }

    void closeEndpoint(Endpoint ep) {
        engine.lock();
        try {
            if (ep.closed) {
                return;
            }
            ep.closed = true;
            Endpoint.SendDescriptor d;
            while ((d = ep.sendQueue.peek()) != null) {
                completeSend(ep, d, CompletionStatus.CLOSED, "endpoint closed before the send was transmitted");
            }
            for (Channel channel : ep.channels) {
                closeChannelLocked(channel);
            }
            ep.channels.clear();
            Endpoint.ReceiveDescriptor r;
            while ((r = ep.freeQueue.peek()) != null) {
                complete(ep, Completion.Kind.RECEIVE, CompletionStatus.CLOSED, r.cookie, null, r.buffer, r.offset, 0,
                        "endpoint closed before a message arrived");
                ep.counters.increment(Endpoint.RECEIVES_FAILED);
                r.buffer = null;
                ep.freeQueue.release();
            }
            tlb.closeContext(ep.context);
            if (ep.segmentPin != null) {
                ep.segmentPin.release();
                ep.segment.close();
            }
            Endpoint[] remaining = Arrays.stream(endpoints).filter(e -> e != ep).toArray(Endpoint[]::new);
            endpoints = remaining;
            ep.released = true;
        } finally {
            unlockEngine();
        }
    }

    /**
     * Freeing library-allocated memory that a queued send reads or a posted receive will write is
     * refused (DESIGN §3: freeing waits for, or refuses, in-flight use): the buffer is the NIC's
     * until its completion, and unmapping it under the NIC would crash the JVM, not just the caller.
     */
    private void refuseFreeInFlight(long address, long length) {
        if (!engine.isHeldByCurrentThread() && holdsAnotherEngine()) {
            // a NIC freeing its own memory (a transport's, a segment's) while holding its engine lock: waiting
            // for this engine could deadlock against a NIC doing the same, and that memory is in no queue here
            if (!engine.tryLock()) {
                return;
            }
        } else {
            engine.lock();
        }
        try {
            for (Endpoint ep : endpoints) {
                Endpoint.SendDescriptor d;
                for (int i = 0; (d = ep.sendQueue.peekAt(i)) != null; i++) {
                    if (d.path == SendPath.PINNED) {
                        for (int e = 0; e < d.count; e++) {
                            refuseIfOverlaps(address, length, d.addresses[e] + d.offsets[e], d.lengths[e], "a queued send");
                        }
                    }
                }
                Endpoint.ReceiveDescriptor r;
                for (int i = 0; (r = ep.freeQueue.peekAt(i)) != null; i++) {
                    refuseIfOverlaps(address, length, r.address + r.offset, r.length, "a posted receive");
                }
                for (Channel channel : ep.channels) {
                    if (channel.reliable != null) {
                        channel.reliable.refuseFreeInFlight(address, length);
                    }
                    if (channel.rxActive) {
                        refuseIfOverlaps(address, length, channel.rxAddress + channel.rxOffset, channel.rxCapacity,
                                "a message arriving now");
                    }
                }
            }
        } finally {
            engine.unlock();
        }
    }

    private boolean holdsAnotherEngine() {
        for (Nic nic : OPEN) {
            if (nic != this && nic.engine.isHeldByCurrentThread()) {
                return true;
            }
        }
        return false;
    }

    static void refuseIfOverlaps(long address, long length, long start, long bytes, String what) {
        if (bytes > 0 && start < address + length && address < start + bytes) {
            throw new PinInUseException("cannot free " + length + " bytes at 0x" + Long.toHexString(address) + ": "
                    + what + " uses them and the buffer is the NIC's until its completion; wait for the completion"
                    + " (or close the endpoint), then free");
        }
    }

    // ---- reliable channels (issue 6): the engine services ReliableChannel uses ------------------

    /** The target of a reliable frame: its channel's protocol, or null (dropped and counted). */
    private ReliableChannel reliableTarget(FrameHeader h) {
        if (!h.isWellFormed()) {
            drop(DropReason.MALFORMED);
            return null;
        }
        Channel channel = h.destinationTag > 0 && h.destinationTag < tags.length ? tags[h.destinationTag] : null;
        if (channel == null || channel.closed) {
            drop(DropReason.UNKNOWN_TAG);
            return null;
        }
        if (channel.route == null) {
            drop(DropReason.WRONG_SOURCE); // a reliable channel talks to its connected peer only
            return null;
        }
        DropReason refused = channel.admit(h); // that peer's address and connection, as they connected
        if (refused != null) {
            drop(refused);
            return null;
        }
        if (channel.reliable == null) {
            drop(DropReason.NOT_RELIABLE);
            return null;
        }
        return channel.reliable;
    }

    /** One fragment of a reliable send; 1 taken, 0 back-pressured, -1 its memory could not be translated. */
    int transmitFragment(Channel channel, FrameHeader h, Endpoint ep, Endpoint.SendDescriptor d, int offset, int length) {
        sendSource.start(ep, d, offset, length);
        boolean taken = transport.transmit(channel.route, h, sendSource);
        RuntimeException failure = sendSource.finish();
        if (failure != null) {
            transmitFailure = failure.getMessage();
            return -1;
        }
        if (!taken) {
            counters.increment(BACK_PRESSURED);
            return 0;
        }
        counters.increment(FRAGMENTS_SENT);
        return 1;
    }

    /** Why the last {@link #transmitFragment} failed. */
    String transmitFailure() {
        return transmitFailure;
    }

    /** An acknowledgement, NACK or CLOSE of a reliable channel; false when the wire pushed back. */
    boolean transmitControl(Channel channel, FrameHeader h, PayloadSource payload) {
        return transport.transmit(channel.route, h, payload);
    }

    /** Whether a completion for {@code ep} can be reported now (an upcall, or room on its queue). */
    boolean canComplete(Endpoint ep) {
        return ep.handler != null || ep.completionQueue.hasRoom();
    }

    /** A reliable message was acknowledged: it counts as sent. */
    void messageAcknowledged(int length) {
        counters.increment(MESSAGES_SENT);
        counters.add(BYTES_SENT, length);
    }

    /** Ends a reliable channel for good: closes it with {@code status}, which completes its window. */
    void closeReliable(Channel channel, CompletionStatus status, String detail) {
        closeChannelLocked(channel, status, detail);
        channel.endpoint.channels.remove(channel);
    }

    /** The protocol counters of a reliable channel. */
    ReliableStats reliableStats(Channel channel) {
        engine.lock();
        try {
            return channel.reliable.stats();
        } finally {
            engine.unlock();
        }
    }

    // ---- safe points: where upcalls run ------------------------------------------------------

    /**
     * Releases one hold of the engine lock; the outermost release first runs the upcalls that are
     * waiting ({@link Upcalls}): here the engine is between steps, so a handler may do anything an
     * application may, close included.
     */
    private void unlockEngine() {
        try {
            if (engine.getHoldCount() == 1 && !upcalls.isEmpty()) {
                upcalls.deliver(errorHandler);
            }
        } finally {
            engine.unlock();
        }
    }

    /**
     * Releases the hold a wire took to hand in a frame. A wire may call from another NIC's engine
     * (the loopback sender's), which is not a safe point for that NIC's handlers to run: this
     * NIC's own progress delivers them, woken here.
     */
    private void releaseFromWire() {
        boolean waiting = !upcalls.isEmpty();
        engine.unlock();
        if (waiting) {
            wake();
        }
    }

    // ---- engine thread -----------------------------------------------------------------------

    private void runEngine() {
        int idle = 0;
        while (running) {
            int work;
            try {
                work = progress();
            } catch (Throwable t) { // a fault in the engine or a wire: report it, keep the NIC's thread
                reportEngineFault(t);
                work = 1;
            }
            if (work > 0) {
                idle = 0;
            } else {
                parked = idle >= 300;
                idle = backOff(idle);
                parked = false;
            }
        }
    }

    /** Spin, then yield, then park for growing intervals (≤ 1 ms); returns the next idle count. */
    static int backOff(int idle) {
        if (idle < 200) {
            Thread.onSpinWait();
        } else if (idle < 300) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(Math.min(1_000_000L, 1_000L << Math.min(idle - 300, 10)));
        }
        return idle + 1;
    }

    private void reportEngineFault(Throwable t) {
        engine.lock();
        try {
            upcalls.report(errorHandler, new IllegalStateException("NIC engine fault on " + Thread.currentThread().getName()
                    + " (" + t + "); the NIC goes on with its next progress round", t));
        } finally {
            engine.unlock();
        }
    }

    void wake() {
        Thread t = thread;
        if (t != null && parked) {
            LockSupport.unpark(t);
        }
    }

    public NicStats stats() {
        return new NicStats(counters.get(MESSAGES_SENT), counters.get(BYTES_SENT), counters.get(FRAGMENTS_SENT),
                counters.get(MESSAGES_RECEIVED), counters.get(BYTES_RECEIVED), NicStats.dropMap(drops.clone()),
                counters.get(BACK_PRESSURED), tlb.stats(), pinCache.stats(), upcalls.errors());
    }

    private void checkOpen() {
        if (closed) {
            throw new ClosedException("NIC is closed: open a new one");
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Closes every endpoint (their pending operations complete with CLOSED), stops the NIC thread,
     * closes the wire and releases every pin: pinned bytes return to zero.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        running = false;
        if (thread != null && thread != Thread.currentThread()) { // from a handler on the NIC thread: no join on itself
            LockSupport.unpark(thread);
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        engine.lock();
        try {
            if (closed) {
                return;
            }
            for (Endpoint endpoint : endpoints) {
                try {
                    closeEndpoint(endpoint);
                } catch (RuntimeException e) { // close the rest, and every resource below, whatever one endpoint did
                    upcalls.report(errorHandler, e);
                }
            }
            closed = true;
            NativeMemory.removeFreeListener(freeGuard);
            OPEN.remove(this);
            closeQuietly(transport);
            closeQuietly(tlb::close);
            closeQuietly(pinCache::close);
            closeQuietly(translator::close);
        } finally {
            unlockEngine(); // the CLOSED completions of handler endpoints run here
        }
    }

    private void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            upcalls.report(errorHandler, e);
        }
    }

}
