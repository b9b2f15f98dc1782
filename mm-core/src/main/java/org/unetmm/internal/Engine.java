package org.unetmm.internal;

import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.unetmm.ChannelAddress;
import org.unetmm.ChannelConfig;
import org.unetmm.ClosedException;
import org.unetmm.CompletionStatus;
import org.unetmm.EndpointConfig;
import org.unetmm.NicConfig;
import org.unetmm.ReliableStats;
import org.unetmm.SegmentPinException;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PageTranslator;
import org.unetmm.pinning.PinBudget;
import org.unetmm.pinning.PinCache;
import org.unetmm.pinning.PinCacheConfig;
import org.unetmm.spi.Transport;
import org.unetmm.tlb.Tlb;
import org.unetmm.tlb.TlbConfig;

/**
 * The NIC engine: one TLB of user pages over a pin cache (its miss path pins on demand), the
 * endpoints, the channel table and one wire. It runs under one lock, so endpoint close and channel
 * setup never race the data path, and every upcall waits for the outermost release of that lock
 * ({@link SafePoint}). The application's data calls (send, post, poll) take no lock: they meet the
 * engine on the endpoint's rings.
 *
 * <p>A progress round, in order: the translations of newly posted receive buffers (a bounded
 * TLB prefetch, {@link ReceivePrefetch}); each endpoint's queued sends to their protocols
 * ({@link SendLoop}); the timers and acknowledgements of the channels that have them; the wire's
 * receive side ({@link Transport#poll}, into {@link Receiver}); the reassembly clock. Sends go
 * first, so a reply queued since the last round leaves without waiting for the wire's poll.
 * Then the round's safe point: the upcalls its receives caused run (under the outermost hold, as
 * at every release), and if a handler queued a send (an RPC reply) the send steps run once more
 * ({@link RoundSteps}) and the wire hands what they queued to the medium without receiving
 * ({@link Transport#sendQueued}), so the reply leaves in the round its cause arrived in and no
 * receive call is spent on a socket just drained: one repeat a round, never a loop.
 */
public final class Engine {
    /** Open engines of this JVM, so a free can tell whether its thread holds some engine's lock. */
    private static final Set<Engine> OPEN = ConcurrentHashMap.newKeySet();

    private final NicConfig config;
    private final PinCache pinCache;
    private final PageTranslator translator;
    private final Tlb tlb;
    private final Transport transport;
    private final int mtu;
    private final ReentrantLock lock = new ReentrantLock();
    private final SafePoint safePoint;
    private final TrafficCounters traffic = new TrafficCounters();
    private final DropCounters drops = new DropCounters();
    private final ChannelTable table = new ChannelTable(drops);
    private final Reassembly reassembly;
    private final SendLoop sends;
    private final ChannelServices services;
    private final Completions completions;
    private final ChannelProtocol.Factory reliableFactory;
    private final NativeMemory.FreeListener freeGuard = this::refuseFreeInFlight;
    private volatile EndpointState[] endpoints = new EndpointState[0];
    /** Channels whose protocol has timers (reliable ones), driven every round. */
    private ChannelState[] timed = new ChannelState[0];
    private volatile boolean closed;
    private EngineThread thread;
    private final ReceivePrefetch prefetch;

    public Engine(NicConfig config, SafePoint safePoint, ChannelProtocol.Factory reliableFactory) {
        this.config = config;
        this.safePoint = safePoint;
        this.reliableFactory = reliableFactory;
        PinBudget budget = config.pinBudget() == null ? PinBudget.fromProcess() : config.pinBudget();
        this.pinCache = new PinCache(PinCacheConfig.builder().budget(budget).build());
        this.translator = PageTranslator.open();
        this.tlb = Tlb.over(new TlbConfig(config.tlbSets(), config.tlbWays(), config.tlbPolicy(), config.seed()),
                pinCache, translator);
        // another NIC of the process is short of locked memory: give up this TLB's translations, but only when no
        // thread is inside this engine (the asker itself may be, delivering into it: its translations are in use),
        // and never wait for it (the asker may hold other engines' locks)
        pinCache.addReclaimer(bytes -> {
            if (!lock.isHeldByCurrentThread() && lock.tryLock()) {
                try {
                    invalidateTranslations();
                } finally {
                    lock.unlock();
                }
            }
        });
        try {
            this.transport = Wires.open(config.transport());
        } catch (RuntimeException e) {
            tlb.close();
            pinCache.close();
            translator.close();
            throw e;
        }
        this.mtu = config.mtu() > 0 ? config.mtu() : transport.mtu();
        this.prefetch = new ReceivePrefetch(tlb, config.tlbSets() * config.tlbWays());
        PageWalk pages = new PageWalk(tlb, budget.isUnlimited());
        this.completions = new Completions(traffic);
        this.sends = new SendLoop(transport, mtu, pages, completions, traffic, new HeldFragments(), pinCache);
        this.reassembly = new Reassembly(config.reassemblyTimeout().toNanos());
        this.services = new ChannelServices(sends, completions, pages, drops, traffic, reassembly, config.reuseCheck(),
                this::closeChannelLocked);
        transport.start(new Receiver(this, table, drops), sends::released);
        NativeMemory.addFreeListener(freeGuard);
        OPEN.add(this);
    }

    /** Starts the NIC thread (NIC_THREAD progress mode). */
    public void startThread(String name) {
        thread = new EngineThread(this, config.idleStrategy().get(), name);
    }

    public int mtu() {
        return mtu;
    }

    public String transportAddress() {
        return transport.address();
    }

    public Tlb tlb() {
        return tlb;
    }

    public PinCache pinCache() {
        return pinCache;
    }

    public TrafficCounters traffic() {
        return traffic;
    }

    public DropCounters drops() {
        return drops;
    }

    public boolean isClosed() {
        return closed;
    }

    // ---- the lock and its safe point ---------------------------------------------------------

    public void lock() {
        lock.lock();
    }

    /**
     * Releases one hold of the engine lock; the outermost release first runs the upcalls that are
     * waiting: here the engine is between steps, so a handler may do anything an application may.
     */
    public void unlock() {
        try {
            if (!safePoint.isEmpty() && lock.getHoldCount() == 1) {
                safePoint.deliver();
            }
        } finally {
            lock.unlock();
        }
    }

    boolean tryLockFromWire() {
        return lock.tryLock();
    }

    /**
     * Whether the calling thread holds the engine already: a wire that hands in a frame from inside
     * this engine's own round (its poll, or loopback from a send of this NIC) needs no hold of its
     * own, and so skips the two fences of a reentrant lock and unlock.
     */
    boolean isHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }

    /**
     * Releases the hold a wire took to hand in a frame. A wire may call from another NIC's engine
     * (the loopback sender's), which is not a safe point for this NIC's handlers: this NIC's own
     * progress delivers them, woken here.
     */
    void unlockFromWire() {
        boolean waiting = !safePoint.isEmpty();
        lock.unlock();
        if (waiting) {
            wake();
        }
    }

    public void wake() {
        EngineThread t = thread;
        if (t != null) {
            t.wake();
        }
    }

    // ---- progress ----------------------------------------------------------------------------

    /** One progress round (see the class comment); returns the work done, 0 = idle. */
    public int progress() {
        lock();
        try {
            if (closed) {
                return 0;
            }
            int work = RoundSteps.sendAndTimers(prefetch, sends, endpoints, timed);
            work += transport.poll();
            work += reassembly.expire();
            if (!safePoint.isEmpty() && lock.getHoldCount() == 1) {
                safePoint.deliver(); // the safe point unlock() would reach, a step earlier
                if (!closed && RoundSteps.sendsQueued(endpoints)) { // what the handlers queued leaves in this round
                    work += RoundSteps.sendAndTimers(prefetch, sends, endpoints, timed);
                    work += transport.sendQueued(); // what arrived meanwhile waits for the next round's poll
                }
            }
            return work;
        } finally {
            unlock();
        }
    }

    void reportFault(Throwable t) {
        lock.lock();
        try {
            safePoint.report(new IllegalStateException("NIC engine fault on " + Thread.currentThread().getName()
                    + " (" + t + "); the NIC goes on with its next progress round", t));
        } finally {
            lock.unlock();
        }
    }

    // ---- endpoints and channels ("kernel" calls) ----------------------------------------------

    public EndpointState openEndpoint(EndpointConfig endpointConfig, CompletionSink sink) {
        lock();
        try {
            checkOpen();
            int context = tlb.openContext();
            EndpointState endpoint;
            try {
                endpoint = EndpointState.open(endpointConfig, context, sink, pinCache, transport);
            } catch (SegmentPinException e) {
                invalidateTranslations(); // the segment must be pinned now; the TLB's translations hold pins to give up
                try {
                    endpoint = EndpointState.open(endpointConfig, context, sink, pinCache, transport);
                } catch (RuntimeException again) {
                    tlb.closeContext(context);
                    throw again;
                }
            } catch (RuntimeException e) {
                tlb.closeContext(context);
                throw e;
            }
            EndpointState[] grown = Arrays.copyOf(endpoints, endpoints.length + 1);
            grown[grown.length - 1] = endpoint;
            endpoints = grown;
            prefetch.share(endpoints);
            return endpoint;
        } finally {
            unlock();
        }
    }

    private void invalidateTranslations() {
        for (EndpointState endpoint : endpoints) {
            tlb.invalidateContext(endpoint.context);
        }
    }

    public ChannelState openChannel(EndpointState ep, ChannelConfig options) {
        lock();
        try {
            checkOpen();
            if (ep.closed) {
                throw new ClosedException("endpoint is closed: open a new endpoint");
            }
            ChannelState channel = new ChannelState(ep, table.allocate(), options, transport.address());
            channel.protocol = (options.isReliable() ? reliableFactory : UnreliableProtocol.FACTORY).open(channel, services);
            if (options.isReliable()) {
                timed = Arrays.copyOf(timed, timed.length + 1);
                timed[timed.length - 1] = channel;
            }
            table.bind(channel);
            ep.channels.add(channel);
            return channel;
        } finally {
            unlock();
        }
    }

    public void connect(ChannelState channel, ChannelAddress peer) {
        if (peer == null) {
            throw new IllegalArgumentException("peer channel address is required");
        }
        lock();
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
            unlock();
        }
    }

    /** The application closes a channel: at once, or (reliable) in order, finished by progress. */
    public void closeChannel(ChannelState channel) {
        lock();
        try {
            if (!channel.closed && channel.protocol.beginClose()) {
                return;
            }
            closeChannelLocked(channel, CompletionStatus.CLOSED, null);
        } finally {
            unlock();
        }
    }

    /** Closes {@code channel} for good; {@code detail} (may be null) says why, for the operations it fails. */
    private void closeChannelLocked(ChannelState channel, CompletionStatus status, String detail) {
        if (channel.closed) {
            return;
        }
        if (channel.closeStatus == null) {
            channel.closeDetail = detail;
            channel.closeStatus = status;
        }
        channel.closed = true;
        table.remove(channel);
        sends.flush(); // nothing a wire holds is still read once the channel's sends complete
        channel.protocol.abandon(status, detail);
        if (channel.protocol.isReliable()) {
            timed = Arrays.stream(timed).filter(c -> c != channel).toArray(ChannelState[]::new);
        }
        channel.endpoint.channels.remove(channel);
    }


    public void closeEndpoint(EndpointState ep) {
        lock();
        try {
            if (ep.closed) {
                return;
            }
            ep.closed = true;
            sends.flush();
            SendDescriptor d;
            while ((d = ep.sendQueue.peek()) != null) {
                completions.completeQueuedSend(ep, d, CompletionStatus.CLOSED, "endpoint closed before the send was transmitted");
            }
            for (ChannelState channel : ep.channels.toArray(new ChannelState[0])) {
                closeChannelLocked(channel, CompletionStatus.CLOSED, null);
            }
            ep.channels.clear();
            ReceiveDescriptor r;
            while ((r = ep.freeQueue.peek()) != null) {
                completions.completeUnused(ep, r, CompletionStatus.CLOSED, "endpoint closed before a message arrived");
                ep.freeQueue.release();
            }
            tlb.closeContext(ep.context);
            if (ep.segmentPin != null) {
                ep.segmentPin.release();
                ep.segment.close();
            }
            endpoints = Arrays.stream(endpoints).filter(e -> e != ep).toArray(EndpointState[]::new);
            prefetch.share(endpoints);
            ep.released = true;
        } finally {
            unlock();
        }
    }

    /** The counters of every reliable channel open now. */
    public ReliableStats[] reliableStats() {
        lock.lock();
        try {
            return Arrays.stream(timed).map(c -> c.protocol.stats()).toArray(ReliableStats[]::new);
        } finally {
            lock.unlock();
        }
    }

    public ReliableStats reliableStats(ChannelState channel) {
        lock.lock();
        try {
            return channel.protocol.stats();
        } finally {
            lock.unlock();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new ClosedException("NIC is closed: open a new one");
        }
    }

    // ---- the free guard ----------------------------------------------------------------------

    /** Refuses freeing memory a queued send, posted receive, window or arriving message uses ({@link FreeGuard}). */
    private void refuseFreeInFlight(long address, long length) {
        if (!lock.isHeldByCurrentThread() && holdsAnotherEngine()) {
            // a NIC freeing its own memory (a transport's, a segment's) while holding its engine lock: waiting
            // for this engine could deadlock against a NIC doing the same, and that memory is in no queue here
            if (!lock.tryLock()) {
                return;
            }
        } else {
            lock.lock();
        }
        try {
            for (EndpointState ep : endpoints) {
                SendDescriptor d;
                for (int i = 0; (d = ep.sendQueue.peekAt(i)) != null; i++) {
                    FreeGuard.refuseIfSendOverlaps(address, length, d, "a queued send");
                }
                ReceiveDescriptor r;
                for (int i = 0; (r = ep.freeQueue.peekAt(i)) != null; i++) {
                    FreeGuard.refuseIfOverlaps(address, length, r.address + r.offset, r.length, "a posted receive");
                }
                for (ChannelState channel : ep.channels) {
                    channel.protocol.refuseFreeInFlight(address, length);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private boolean holdsAnotherEngine() {
        for (Engine engine : OPEN) {
            if (engine != this && engine.lock.isHeldByCurrentThread()) {
                return true;
            }
        }
        return false;
    }

    // ---- close -------------------------------------------------------------------------------

    /**
     * Closes every endpoint (their pending operations complete with CLOSED), stops the NIC thread,
     * closes the wire and releases every pin: pinned bytes return to zero.
     */
    public void close() {
        if (closed) {
            return;
        }
        EngineThread t = thread;
        if (t != null) {
            t.stop(); // from a handler on the NIC thread itself: it does not join itself
        }
        lock();
        try {
            if (closed) {
                return;
            }
            for (EndpointState endpoint : endpoints) {
                try {
                    closeEndpoint(endpoint);
                } catch (RuntimeException e) { // close the rest, and every resource below, whatever one endpoint did
                    safePoint.report(e);
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
            unlock(); // the CLOSED completions of handler endpoints run here
        }
    }

    private void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            safePoint.report(e);
        }
    }
}
