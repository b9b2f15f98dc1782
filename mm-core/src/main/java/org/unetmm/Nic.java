package org.unetmm;

import java.util.concurrent.atomic.AtomicInteger;
import org.unetmm.internal.ChannelState;
import org.unetmm.internal.Engine;
import org.unetmm.internal.reliable.ReliableProtocol;

/**
 * The software NIC of U-Net/MM: one TLB of user pages over a pin cache (its miss path pins on
 * demand), the endpoints, and one wire ({@code Transport}, chosen by URI). This class is the
 * facade an application holds; the engine behind it ({@code org.unetmm.internal}) never names it.
 *
 * <p>The send path, in order: {@link Endpoint#send} puts a descriptor on the send queue; a
 * progress round takes it to its channel's protocol, which cuts the message into MTU-sized
 * fragments and hands each to the wire; the wire pulls the payload from the sender's memory, and
 * every page it reads is first translated through the TLB (a miss traps to the pin cache, which
 * pins the page). On the receiving NIC every page written is translated the same way, and the
 * bytes land straight in the posted buffer, at their offset in the message. Unreliable channels
 * complete a send when the wire no longer needs its bytes; reliable channels
 * ({@link ChannelConfig#reliable()}) complete it on the peer's acknowledgement.
 * {@code docs/architecture.md} follows a message through every class.
 *
 * <p>Progress: a NIC thread of its own (with {@link NicConfig#idleStrategy()}) or the caller's
 * ({@link ProgressMode#CALLER}, {@link #progress()}).
 */
public final class Nic implements AutoCloseable {
    private static final AtomicInteger NIC_IDS = new AtomicInteger();

    private final NicConfig config;
    private final Upcalls upcalls;
    private final Engine engine;
    private final NicExperiments experiments;
    private final NicMBean mbean;

    private Nic(NicConfig config) {
        this.config = config;
        this.upcalls = new Upcalls(config.errorHandler());
        this.engine = new Engine(config, upcalls, ReliableProtocol.factory());
        this.experiments = new NicExperiments(engine);
        String name = "unetmm-nic-" + NIC_IDS.incrementAndGet();
        if (config.progressMode() == ProgressMode.NIC_THREAD) {
            engine.startThread(name);
        }
        this.mbean = new NicMBean(this, engine);
        mbean.register(name);
    }

    /** {@return a NIC on the in-JVM loopback wire with default settings; the caller closes it} */
    public static Nic open() {
        return open(NicConfig.defaults());
    }

    /**
     * Opens a NIC: its wire, TLB, pin cache and, in NIC_THREAD mode, its thread.
     *
     * @param config the NIC's settings, not null
     * @return the NIC; the caller closes it
     * @throws IllegalArgumentException if {@code config} is null or names no known wire
     * @throws TransportException if the wire cannot be opened
     */
    public static Nic open(NicConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("NIC configuration is required: NicConfig.defaults() or NicConfig.builder()");
        }
        return new Nic(config);
    }

    /** {@return the settings it was opened with} */
    public NicConfig config() {
        return config;
    }

    /** {@return what an experiment may do beyond sending and receiving: TLB traces, a cold pin cache, shootdowns} */
    public NicExperiments experiments() {
        return experiments;
    }

    /** {@return the largest fragment payload this NIC sends} */
    public int mtu() {
        return engine.mtu();
    }

    /** {@return this NIC's address on its wire; channel addresses are {@code <this>/<tag>#<connection id>}} */
    public String transportAddress() {
        return engine.transportAddress();
    }

    /**
     * Opens an endpoint with {@link EndpointConfig#defaults()}.
     *
     * @return the endpoint; the caller closes it
     * @throws SegmentPinException if its fixed segment cannot be pinned
     */
    public Endpoint openEndpoint() {
        return openEndpoint(EndpointConfig.defaults());
    }

    /**
     * Opens an endpoint: its queues, its TLB context and its fixed segment, pinned now.
     *
     * @param endpointConfig its shape, not null
     * @return the endpoint; the caller closes it
     * @throws IllegalArgumentException if {@code endpointConfig} is null
     * @throws SegmentPinException if its fixed segment cannot be pinned
     */
    public Endpoint openEndpoint(EndpointConfig endpointConfig) {
        if (endpointConfig == null) {
            throw new IllegalArgumentException("endpoint configuration is required: EndpointConfig.defaults()");
        }
        return new Endpoint(this, engine, upcalls, endpointConfig);
    }

    /**
     * Does the NIC's pending work once: transmits queued sends, runs the reliable channels' timers,
     * takes arrivals from the wire. Returns how much was done (0 = idle). In CALLER mode the
     * application calls this.
     *
     * @return units of work done
     */
    public int progress() {
        return engine.progress();
    }

    /** {@return a snapshot of the NIC's counters, with its TLB's and pin cache's} Any thread. */
    public NicStats stats() {
        var traffic = engine.traffic();
        return new NicStats(traffic.messagesSent(), traffic.bytesSent(), traffic.fragmentsSent(),
                traffic.messagesReceived(), traffic.bytesReceived(), NicStats.dropMap(engine.drops().snapshot()),
                traffic.backPressured(), engine.tlb().stats(), engine.pinCache().stats(), upcalls.errors());
    }

    /** {@return whether {@link #close()} has run} */
    public boolean isClosed() {
        return engine.isClosed();
    }

    /**
     * Closes every endpoint (their pending operations complete with CLOSED), stops the NIC thread,
     * closes the wire and releases every pin: pinned bytes return to zero.
     */
    @Override
    public void close() {
        mbean.unregister();
        engine.close();
    }

    /** The public handle of a channel's state (set when the channel opened). */
    static Channel handle(ChannelState state) {
        return state == null ? null : (Channel) state.handle;
    }
}
